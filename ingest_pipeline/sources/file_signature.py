"""A cheap fingerprint of files on disk: paths, sizes and modification times. It changes
when a file is added, removed or written, and costs one ``stat`` per file, never a read."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ingest_pipeline.domain import sha256_hex


def files_signature(files: Iterable[Path]) -> str:
    """The fingerprint of ``files`` (in the order given); a file gone meanwhile counts as
    a change, not an error."""
    parts = []
    for file in files:
        try:
            stat = file.stat()
        except OSError:
            parts.append(f"{file}\0gone")
            continue
        parts.append(f"{file}\0{stat.st_size}\0{stat.st_mtime_ns}")
    return sha256_hex("\n".join(parts).encode("utf-8", errors="surrogateescape"))
