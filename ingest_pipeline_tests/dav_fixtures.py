"""CalDAV/CardDAV test helpers: a Radicale account, calendars and address books filled from
``.ics``/``.vcf`` files the way a client uploads them (one object per UID, one card per
resource, each PUT alone so the server judges each on its own), and sources built through
the provider registry as the pipeline builds them."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ingest_pipeline.domain import sha256_hex
from ingest_pipeline.sources.base import Source
from ingest_pipeline.sources.ics.ics_files import component_blocks, decode_calendar, wr_timezone
from ingest_pipeline.sources.registry import build_source, get_provider
from ingest_pipeline.sources.vcard.card_splitter import card_spans
from ingest_pipeline_tests.radicale_server import RadicaleServer, radicale

USER, PASSWORD = "ann", "correct horse battery"
CALENDAR, ADDRESS_BOOK = "calendar", "contacts"
_UID = re.compile(r"^UID[;:](?:[^:\r\n]*:)?(.*)$", re.MULTILINE | re.IGNORECASE)


@dataclass
class Upload:
    """What was PUT: the objects the server stored (name → bytes) and those it refused
    (name → its status and answer)."""

    stored: dict[str, bytes] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


def calendar_objects(data: bytes, label: str) -> list[tuple[str, bytes]]:
    """A calendar file as CalDAV object resources: one VCALENDAR per UID, with the file's
    time zones and X-WR-TIMEZONE, named ``<label>-<n>.ics``."""
    text, _ = decode_calendar(data)
    zones = "".join(component_blocks(text, "VTIMEZONE"))
    zone = wr_timezone(text)
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ingest_pipeline tests//EN\r\n"
    head += f"X-WR-TIMEZONE:{zone}\r\n" if zone else ""
    groups: dict[str, list[str]] = {}
    for block in component_blocks(text, "VEVENT"):
        found = _UID.search(block)
        uid = found.group(1).strip() if found else f"nouid-{sha256_hex(block.encode())[:16]}"
        groups.setdefault(uid, []).append(block if block.endswith("\n") else block + "\r\n")
    return [
        (f"{label}-{n}.ics", (head + zones + "".join(events) + "END:VCALENDAR\r\n").encode())
        for n, events in enumerate(groups.values(), start=1)
    ]


def load_calendar(
    server: RadicaleServer, files: Sequence[Path], *, name: str = CALENDAR, user: str = USER
) -> Upload:
    """Create calendar ``name`` and PUT every file's objects into it."""
    collection = server.make_collection(user, name, "calendar")
    upload = Upload()
    for file in files:
        for object_name, data in calendar_objects(file.read_bytes(), _label(file)):
            _put(server, user, collection + object_name, data, "text/calendar", upload)
    return upload


def load_calendars(server: RadicaleServer, files: Sequence[Path], user: str = USER) -> Upload:
    """Every file's objects, in as few calendars as their UIDs allow (test files reuse
    UIDs, which a calendar must keep unique): each file goes into the first calendar
    holding none of its UIDs, as a person importing files one by one would place them."""
    upload = Upload()
    calendars: list[tuple[str, set[str]]] = []
    for number, file in enumerate(files, start=1):
        # Two folders may hold files of the same name: the number keeps objects apart.
        objects = calendar_objects(file.read_bytes(), f"{number:03d}-{_label(file)}")
        uids = {
            found.group(1).strip()
            for _, data in objects
            for found in [_UID.search(data.decode("utf-8", "replace"))]
            if found
        }
        home = next((c for c in calendars if not c[1] & uids), None)
        if home is None:
            home = (f"calendar-{len(calendars) + 1}", set())
            server.make_collection(user, home[0], "calendar")
            calendars.append(home)
        home[1].update(uids)
        part = Upload()
        for object_name, data in objects:
            _put(server, user, f"/{user}/{home[0]}/{object_name}", data, "text/calendar", part)
        upload.stored.update({f"{home[0]}/{k}": v for k, v in part.stored.items()})
        upload.refused.update({f"{home[0]}/{k}": v for k, v in part.refused.items()})
    return upload


def load_cards(
    server: RadicaleServer, files: Sequence[Path], *, name: str = ADDRESS_BOOK, user: str = USER
) -> Upload:
    """Create address book ``name`` and PUT every card of the files as its own resource,
    adding a UID to a card without one, as CardDAV clients do (the server requires it)."""
    collection = server.make_collection(user, name, "addressbook")
    upload = Upload()
    for file in files:
        data = file.read_bytes()
        for n, span in enumerate(card_spans(data), start=1):
            card = data[span.start : span.end]
            if not re.search(rb"^UID[;:]", card, re.MULTILINE | re.IGNORECASE):
                at = card.upper().rindex(b"END:VCARD")
                card = card[:at] + f"UID:{_label(file)}-{n}\r\n".encode() + card[at:]
            _put(server, user, f"{collection}{_label(file)}-{n}.vcf", card, "text/vcard", upload)
    return upload


def _put(
    server: RadicaleServer, user: str, path: str, data: bytes, kind: str, upload: Upload
) -> None:
    answer = server.put(user, path, data, kind)
    name = path.rsplit("/", 1)[1]
    if answer.status_code in (200, 201, 204):
        upload.stored[name] = data
    else:
        upload.refused[name] = f"{answer.status_code} {answer.text[:200]}"


def _label(file: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", file.stem)


def dav_options(server: RadicaleServer, **more: Any) -> dict[str, Any]:
    return {"url": server.url, **({"ca_file": server.ca_file} if server.ca_file else {}), **more}


def dav_source(
    server: RadicaleServer,
    provider: str,
    *,
    password: str = PASSWORD,
    sync_state: dict[str, Any] | None = None,
    **options: Any,
) -> Source:
    """A ``caldav`` or ``carddav`` source of the account, built as the pipeline builds it."""
    return build_source(
        provider=provider,
        account=USER,
        options=dav_options(server, **options),
        credentials={"password": password},
        sync_state=sync_state,
    )


@pytest.fixture
def dav_server() -> Iterator[RadicaleServer]:
    """A Radicale with one account (``USER``), no calendar or address book yet."""
    with radicale({USER: PASSWORD}) as server:
        yield server


@pytest.fixture
def dav_sample(dav_server: RadicaleServer) -> RadicaleServer:
    """The account holding the sample calendar and address book (bundled sample data)."""
    from ingest_pipeline_tests.conftest import SAMPLE_MBOX

    upload = load_calendar(dav_server, [SAMPLE_MBOX.parent / "sample_calendar.ics"])
    assert not upload.refused, upload.refused
    cards = load_cards(dav_server, [SAMPLE_MBOX.parent / "sample_contacts.vcf"])
    assert not cards.refused, cards.refused
    return dav_server


def register_dav(db_url: str, server: RadicaleServer, key: str, provider: str) -> str:
    """An active CalDAV or CardDAV integration of ``server``'s account, password encrypted."""
    from ingest_pipeline.store import integrations
    from ingest_pipeline.store.credentials_vault import encrypt
    from ingest_pipeline.store.database import session_scope

    with session_scope(db_url) as session:
        row = integrations.add_integration(
            session,
            provider=provider,
            stream=get_provider(provider).streams[0],
            account=USER,
            task=None,
            options=dav_options(server),
            credentials=encrypt({"password": PASSWORD}, key=key),
        )
        return row.partition_key or ""


def object_with_uid(server: RadicaleServer, collection: str, uid: str, user: str = USER) -> str:
    """The path of the object in ``collection`` (its path) whose event has UID ``uid``: the
    collection listed by PROPFIND, then each object read until one holds it."""
    import xml.etree.ElementTree as ET

    with server.client(user) as http:
        answer = http.request("PROPFIND", collection, headers={"Depth": "1"})
        hrefs = [h.text or "" for h in ET.fromstring(answer.content).iter("{DAV:}href")]
        for href in hrefs:
            if href.endswith(".ics") and f"UID:{uid}\r\n".encode() in http.get(href).content:
                return href
    raise LookupError(f"no object with UID {uid!r} in {collection}")
