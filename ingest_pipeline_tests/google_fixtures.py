"""Shared Google Contacts and Calendar test setup: the local Google server with a small
address book and a week of meetings for USER, and sources and integrations pointed at it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from ingest_pipeline.sources.registry import build_source
from ingest_pipeline.store import integrations
from ingest_pipeline.store.credentials_vault import encrypt
from ingest_pipeline.store.database import session_scope
from ingest_pipeline_tests.fakes.gmail_server import FakeGmail
from ingest_pipeline_tests.gmail_fixtures import USER, credentials_info

WEEK = [dt.date(2026, 11, 2) + dt.timedelta(days=n) for n in range(7)]

# Six people: Ann is also in the Outlook sample; two Alex Kims with different emails; Bo has
# two emails; Dee has only a phone.
SAMPLE_PEOPLE: tuple[dict[str, Any], ...] = (
    {
        "names": [{"givenName": "Ann", "familyName": "Lee"}],
        "emailAddresses": [{"value": "Ann.Lee@talent.example", "type": "work"}],
        "phoneNumbers": [{"value": "+1 415 555 0100", "type": "mobile"}],
        "organizations": [{"name": "Talent Partners", "title": "Recruiter"}],
    },
    {
        "names": [{"givenName": "Bo", "familyName": "Chen"}],
        "emailAddresses": [{"value": "bo@chen.example"}, {"value": "bo.chen@work.example"}],
    },
    {
        "names": [{"givenName": "Alex", "familyName": "Kim"}],
        "emailAddresses": [{"value": "alex@kim.example"}],
    },
    {
        "names": [{"givenName": "Alex", "familyName": "Kim"}],
        "emailAddresses": [{"value": "alex.kim@other.example"}],
    },
    {
        "names": [{"givenName": "Dee", "familyName": "Patel"}],
        "phoneNumbers": [{"value": "+44 20 7946 0958"}],
    },
    {
        "names": [{"givenName": "Eve", "familyName": "Moss"}],
        "emailAddresses": [{"value": "eve@moss.example"}],
        "photos": [{"url": "https://lh3.googleusercontent.com/a/eve"}],
    },
)


def _at(day: dt.date, hour: int, minute: int = 0) -> dict[str, str]:
    return {"dateTime": f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z"}


def sample_events() -> list[dict[str, Any]]:
    """A week of meetings: four one-off ones with attendees, a daily 15-minute stand-up on
    weekdays (a recurring series), and an all-day offsite."""
    ann = {
        "email": "ann.lee@talent.example",
        "displayName": "Ann Lee",
        "responseStatus": "accepted",
    }
    bo = {"email": "bo@chen.example", "responseStatus": "needsAction", "optional": True}
    me = {"email": USER, "displayName": "Recruiting", "self": True, "organizer": True}
    return [
        {
            "summary": "Intro call with Ann",
            "start": _at(WEEK[0], 15),
            "end": _at(WEEK[0], 15, 30),
            "organizer": {"email": USER},
            "attendees": [me, ann],
        },
        {
            "summary": "Pipeline review",
            "start": _at(WEEK[1], 9),
            "end": _at(WEEK[1], 10),
            "organizer": {"email": USER},
            "attendees": [me, ann, bo],
        },
        {
            "summary": "Candidate debrief",
            "start": _at(WEEK[2], 23, 30),
            "end": _at(WEEK[3], 0, 30),  # runs past midnight: belongs to its start day
            "organizer": {"email": "alex@kim.example"},
            "attendees": [{"email": "alex@kim.example", "organizer": True}, me],
        },
        {
            "summary": "Offsite",
            "start": {"date": WEEK[4].isoformat()},
            "end": {"date": WEEK[5].isoformat()},
        },
        {
            "summary": "Stand-up",
            "start": {"dateTime": f"{WEEK[0].isoformat()}T08:00:00Z", "timeZone": "UTC"},
            "end": {"dateTime": f"{WEEK[0].isoformat()}T08:15:00Z", "timeZone": "UTC"},
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=5"],
            "organizer": {"email": USER},
        },
        {
            "summary": "Sourcing sync",
            "start": _at(WEEK[6], 11),
            "end": _at(WEEK[6], 11, 30),
            "attendees": [me, {"email": "eve@moss.example"}],
        },
    ]


# One-off meetings (4) + five stand-ups + the offsite.
SAMPLE_OCCURRENCES = 10


@pytest.fixture
def google() -> Iterator[tuple[FakeGmail, dict[str, Any]]]:
    """A running server holding USER's address book and calendar, and credentials."""
    with FakeGmail() as server:
        token = server.add_user(USER)
        for person in SAMPLE_PEOPLE:
            server.add_person(USER, dict(person))
        for event in sample_events():
            server.add_event(USER, "primary", event)
        yield server, credentials_info(server, token)


def google_source(
    server: FakeGmail,
    info: dict[str, Any],
    provider: str,
    *,
    sync_state: dict[str, Any] | None = None,
    **options: Any,
) -> Any:
    """The provider's source for USER, built through the registry as runs build it."""
    return build_source(
        provider=provider,
        account=USER,
        options={"api_endpoint": server.base_url, **options},
        credentials=info,
        sync_state=sync_state,
    )


def register_google(
    db_url: str, server: FakeGmail, info: dict[str, Any], key: str, *, provider: str
) -> str:
    """An active Google Contacts or Calendar integration pointed at the local server."""
    stream = "contacts" if provider == "google-contacts" else "calendar_events"
    with session_scope(db_url) as session:
        row = integrations.add_integration(
            session,
            provider=provider,
            stream=stream,
            account=USER,
            task=None,
            options={"api_endpoint": server.base_url},
            credentials=encrypt(info, key=key),
        )
        return row.partition_key or ""
