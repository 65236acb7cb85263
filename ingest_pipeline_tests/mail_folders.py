"""Test mailboxes built on disk: a big folder of .eml files received on one day."""

from __future__ import annotations

import datetime as dt
import mailbox
import os
from pathlib import Path

from ingest_pipeline_tests.conftest import SAMPLE_MBOX

BIG_DAY = dt.date(2026, 11, 10)
COPIES = 4


def big_eml_folder(folder: Path) -> int:
    """The sample's messages ×COPIES as .eml files received on BIG_DAY, each copy with its
    own Message-ID; returns how many files."""
    folder.mkdir()
    stamp = dt.datetime.combine(BIG_DAY, dt.time(12), tzinfo=dt.UTC).timestamp()
    count = 0
    for n, message in enumerate(mailbox.mbox(SAMPLE_MBOX)):
        data = message.as_bytes()
        for copy in range(COPIES):
            path = folder / f"{n:03d}-{copy}.eml"
            path.write_bytes(data.replace(b"Message-ID: <", f"Message-ID: <c{copy}.".encode(), 1))
            os.utime(path, (stamp, stamp))
            count += 1
    return count
