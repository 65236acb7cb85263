"""The stream registry: every kind is found by name, its parser version follows its parser's,
and loading the code location imports no stream's parsing libraries."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from ingest_pipeline.settings import Settings
from ingest_pipeline.sources.registry import PROVIDERS, providers_of
from ingest_pipeline.streams.registry import STREAM_NAMES, get_stream


def test_every_stream_has_a_kind_and_a_provider() -> None:
    for name in STREAM_NAMES:
        kind = get_stream(name)
        assert kind.name == name
        assert providers_of(name), f"no provider yields {name}"
    assert {s for spec in PROVIDERS.values() for s in spec.streams} == set(STREAM_NAMES)
    assert [get_stream(n).dated for n in STREAM_NAMES] == [True, False, True, True]


def test_an_unknown_stream_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown stream 'faxes'; known streams: mail, contacts"):
        get_stream("faxes")


def test_parser_versions_follow_the_parsers() -> None:
    from ingest_pipeline.streams.calendar_events import ics_parser
    from ingest_pipeline.streams.contacts import vcard_parser

    assert get_stream("contacts").parser_version == f"contacts-{vcard_parser.PARSER_VERSION}"
    assert get_stream("calendar_events").parser_version == f"calendar-{ics_parser.PARSER_VERSION}"
    versions = [get_stream(n).parser_version for n in STREAM_NAMES]
    assert len(set(versions)) == len(versions), "parse results of two streams would collide"


def test_loading_the_code_location_imports_no_parsing_library() -> None:
    script = (
        "import sys\n"
        "from ingest_pipeline.defs.code_location import build_definitions\n"
        "build_definitions()\n"
        "heavy = ['icalendar', 'vobject', 'phonenumbers', 'pypdf', 'docx', 'bs4']\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_history_starts_on_january_first_of_last_year_unless_set() -> None:
    assert Settings().history_start_day(today=dt.date(2026, 11, 29)) == dt.date(2025, 1, 1)
    chosen = Settings(history_start=dt.date(2024, 6, 1))
    assert chosen.history_start_day(today=dt.date(2026, 11, 29)) == dt.date(2024, 6, 1)
