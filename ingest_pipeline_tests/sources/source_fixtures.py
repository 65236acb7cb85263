"""The sources the contract suite runs on: one `SourceCase` per source, in `CASES`.

A new source gets the whole suite by adding one `SourceCase`: how to build it ready (through
the provider registry, as the pipeline does), how to build it misconfigured, the windows
that together cover its sample, how many items they hold, and the optional knobs for paging
and for a failing item.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ingest_pipeline.domain import ItemRef, RawItem, Window
from ingest_pipeline.sources.base import Source
from ingest_pipeline.sources.dav import caldav_source, carddav_source
from ingest_pipeline.sources.google import calendar_source, people_source
from ingest_pipeline.sources.ics import ics_source
from ingest_pipeline.sources.imap import imap_source as imap_source_module
from ingest_pipeline.sources.imap.imap_source import parse_key
from ingest_pipeline.sources.mailbox import mailbox_source
from ingest_pipeline.sources.microsoft import outlook_source as outlook_module
from ingest_pipeline.sources.prompts import prompt_set_source
from ingest_pipeline.sources.registry import build_source
from ingest_pipeline.sources.vcard import vcard_source
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.prompt_models import Prompt
from ingest_pipeline.store.prompts import PromptSpec, add_prompt, disable_prompt, prompt_set
from ingest_pipeline.streams.prompt_runs.prompt_run import PromptRunKey
from ingest_pipeline_tests import dav_fixtures, imap_fixtures
from ingest_pipeline_tests.conftest import SAMPLE_MBOX
from ingest_pipeline_tests.fakes.gmail_server import FakeGmail
from ingest_pipeline_tests.fakes.graph_server import FakeGraph, GraphFaults
from ingest_pipeline_tests.gmail_fixtures import USER, credentials_info, fast_sleep, gmail_source
from ingest_pipeline_tests.google_fixtures import SAMPLE_OCCURRENCES, SAMPLE_PEOPLE, google_source
from ingest_pipeline_tests.graph_fixtures import (
    CLIENT_ID,
    MAILBOX,
    SAMPLE_CONTACTS,
    app_credentials,
    graph_options,
    impatient_graph_source,
    outlook_source,
)

SAMPLE_DATA = SAMPLE_MBOX.parent
SMALL_PAGE = 2


@dataclass(frozen=True)
class CaseEnv:
    """What a case's factories may use: the test's pytest fixtures and its temp folder."""

    request: pytest.FixtureRequest
    tmp_path: Path

    def fixture(self, name: str) -> Any:
        """A pytest fixture's value (the same object every time within one test)."""
        return self.request.getfixturevalue(name)

    def account_copy(self, sample: Path) -> Path:
        """A copy of a sample file that the test may change; made once per test."""
        copy = self.tmp_path / "account" / sample.name
        if not copy.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sample, copy)
        return copy

    def text_file(self, name: str, text: str) -> Path:
        """A file holding ``text``, for configurations pointing at the wrong kind of file."""
        path = self.tmp_path / "bad" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path


@dataclass(frozen=True)
class BadConfig:
    """A configuration a person gets wrong; building or checking it must raise
    `SourceError` whose message holds every fragment of ``says``."""

    label: str
    make: Callable[[CaseEnv], Source]
    says: tuple[str, ...]


@dataclass(frozen=True)
class ItemFailure:
    """One listed item made to fail: ``target`` fetched with ``source`` must be a
    `FetchError` whose ``retryable`` is as given. ``heal`` undoes a transient fault (a later
    fetch must then succeed); ``others_unaffected`` says the other items still come back."""

    target: ItemRef
    source: Source
    retryable: bool
    heal: Callable[[], None] | None = None
    others_unaffected: bool = True


MakeSource = Callable[[CaseEnv, dict[str, Any] | None], Source]
BreakItem = Callable[[CaseEnv, Source, Sequence[ItemRef]], ItemFailure]
ArrangePaging = Callable[[CaseEnv, pytest.MonkeyPatch], Sequence[Window | None]]


@dataclass(frozen=True)
class SourceCase:
    """One source under the contract suite.

    ``make_source`` builds it ready (given a saved sync state); ``windows`` together cover its
    sample and hold ``expected_total`` items; ``arrange_paging`` makes the listing span several
    pages and returns the windows to page through; ``break_item`` makes one of the given
    listed items fail (None: the source has no such failure, ``no_failure_reason`` says why).
    """

    name: str
    provider: str
    make_source: MakeSource
    bad_configs: tuple[BadConfig, ...]
    windows: tuple[Window | None, ...]
    expected_total: int
    arrange_paging: ArrangePaging | None = None
    break_item: BreakItem | None = None
    no_failure_reason: str = ""


def days(first: dt.date, last: dt.date) -> tuple[Window, ...]:
    """One window per UTC day from ``first`` to ``last``, both included."""
    return tuple(
        Window.for_day(first + dt.timedelta(days=n)) for n in range((last - first).days + 1)
    )


# The sample week, with an empty day on each side so an item on the wrong day shows.
SAMPLE_WEEK = days(dt.date(2026, 11, 1), dt.date(2026, 11, 9))
# The stand-up recurs Mon/Wed/Fri from 2026-10-05 to 2026-12-18.
CALENDAR_QUARTER = days(dt.date(2026, 10, 1), dt.date(2026, 12, 31))


def _raw_bytes(source: Source, ref: ItemRef) -> bytes:
    [item] = list(source.fetch([ref]))
    assert isinstance(item, RawItem), item
    return item.data


def _path_source(provider: str, sample: str) -> MakeSource:
    def make(env: CaseEnv, sync_state: dict[str, Any] | None) -> Source:
        account = env.account_copy(SAMPLE_DATA / sample)
        return build_source(provider=provider, account=str(account), sync_state=sync_state)

    return make


def _path_configs(provider: str, suffix: str, wrong_kind: str) -> tuple[BadConfig, ...]:
    """A path that does not exist, and a file of the wrong kind."""

    def missing(env: CaseEnv) -> Source:
        return build_source(provider=provider, account=str(env.tmp_path / f"missing{suffix}"))

    def not_it(env: CaseEnv) -> Source:
        notes = env.text_file(f"notes{suffix}", "Call Neha on Monday about the Dallas role.\n")
        return build_source(provider=provider, account=str(notes))

    return (
        BadConfig("missing-path", missing, (f"missing{suffix}", "does not exist")),
        BadConfig("wrong-kind-of-file", not_it, (f"notes{suffix}", wrong_kind)),
    )


def _small_pages(module: Any, windows: Sequence[Window | None]) -> ArrangePaging:
    """Lower a file source's page size (a module constant) so the sample spans pages."""

    def arrange(env: CaseEnv, monkeypatch: pytest.MonkeyPatch) -> Sequence[Window | None]:
        monkeypatch.setattr(module, "PAGE_SIZE", SMALL_PAGE)
        return windows

    return arrange


def _vanish_mbox_message(env: CaseEnv, source: Source, refs: Sequence[ItemRef]) -> ItemFailure:
    """Delete the first message (its ``From`` line, bytes and separator) from the mbox."""
    target = refs[0]
    data = _raw_bytes(source, target)
    path = env.account_copy(SAMPLE_MBOX)
    mbox = path.read_bytes()
    at = mbox.index(data)
    start = mbox.rfind(b"\nFrom ", 0, at) + 1
    end = at + len(data)
    end += mbox.startswith(b"\n", end)
    path.write_bytes(mbox[:start] + mbox[end:])
    return ItemFailure(target=target, source=source, retryable=False)


def _vanish_card(env: CaseEnv, source: Source, refs: Sequence[ItemRef]) -> ItemFailure:
    """Delete the first card's exact bytes from the address book."""
    target = refs[0]
    path = env.account_copy(SAMPLE_DATA / "sample_contacts.vcf")
    path.write_bytes(path.read_bytes().replace(_raw_bytes(source, target), b"", 1))
    return ItemFailure(target=target, source=source, retryable=False)


def _vanish_event(env: CaseEnv, source: Source, refs: Sequence[ItemRef]) -> ItemFailure:
    """Delete the VEVENT of the first one-off event (ids are ``<UID>|single``)."""
    target = next(ref for ref in refs if ref.external_id.endswith("|single"))
    uid = target.external_id.split("|", 1)[0]
    path = env.account_copy(SAMPLE_DATA / "sample_calendar.ics")
    text = path.read_text(encoding="utf-8")
    at = text.index(f"UID:{uid}")
    start = text.rindex("BEGIN:VEVENT", 0, at)
    end = text.index("END:VEVENT", at) + len("END:VEVENT")
    end += len(text[end:]) - len(text[end:].lstrip("\r\n"))
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    return ItemFailure(target=target, source=source, retryable=False)


def _gmail(env: CaseEnv, sync_state: dict[str, Any] | None) -> Source:
    server, info = env.fixture("gmail")
    return build_source(
        provider="gmail",
        account=USER,
        options={"api_endpoint": server.base_url},
        credentials=info,
        sync_state=sync_state,
    )


def _gmail_with(
    change: Callable[[FakeGmail, dict[str, Any]], dict[str, Any] | None],
) -> Callable[[CaseEnv], Source]:
    """A Gmail source whose stored credentials are ``change``d from the good ones."""

    def make(env: CaseEnv) -> Source:
        server, info = env.fixture("gmail")
        return build_source(
            provider="gmail",
            account=USER,
            options={"api_endpoint": server.base_url},
            credentials=change(server, info),
        )

    return make


def _revoked_grant(server: FakeGmail, info: dict[str, Any]) -> dict[str, Any]:
    token = server.add_user(USER)
    server.revoke(token)
    return credentials_info(server, token)


GMAIL_CONFIGS = (
    BadConfig("revoked-grant", _gmail_with(_revoked_grant), ("reconnect",)),
    BadConfig(
        "wrong-client-secret",
        _gmail_with(lambda server, info: {**info, "client_secret": "not-the-secret"}),
        ("reconnect",),
    ),
    BadConfig("no-credentials", _gmail_with(lambda server, info: None), ("no stored credentials",)),
)


def _gmail_busy_day(env: CaseEnv, monkeypatch: pytest.MonkeyPatch) -> Sequence[Window]:
    """Gmail lists 500 ids a page: fill a day outside the sample with 1,001 messages."""
    server, _ = env.fixture("gmail")
    day = dt.datetime(2026, 11, 10, tzinfo=dt.UTC)
    for n in range(1001):
        raw = f"Subject: busy {n}\nMessage-ID: <busy{n}@example.com>\n\nbody {n}\n".encode()
        server.add_message(USER, raw, internal_date=day + dt.timedelta(seconds=86 * n))
    return (Window.for_day(day.date()),)


def _gmail_keeps_failing(env: CaseEnv, source: Source, refs: Sequence[ItemRef]) -> ItemFailure:
    """Every Gmail call answers 429 or 503 until healed. The fake cannot single out one
    message, and the registry's source waits out backoff for real, so the failing fetch
    goes through a source with shortened sleeps and three attempts."""
    server, info = env.fixture("gmail")
    server.faults.share = 1.0
    server.faults.kinds = ("429", "503")

    def heal() -> None:
        server.faults.share = 0.0

    impatient = gmail_source(server, info, max_attempts=3)
    return ItemFailure(
        target=refs[0], source=impatient, retryable=True, heal=heal, others_unaffected=False
    )


def _graph(provider: str) -> MakeSource:
    def make(env: CaseEnv, sync_state: dict[str, Any] | None) -> Source:
        server: FakeGraph = env.fixture("graph")
        return outlook_source(server, provider=provider, sync_state=sync_state)

    return make


def _graph_with(
    provider: str, change: Callable[[FakeGraph], dict[str, Any]]
) -> Callable[[CaseEnv], Source]:
    """A Graph source whose integration settings are ``change``d from the good ones."""

    def make(env: CaseEnv) -> Source:
        server: FakeGraph = env.fixture("graph")
        return outlook_source(server, provider=provider, **change(server))

    return make


def _revoked_app(server: FakeGraph) -> dict[str, Any]:
    server.revoke_app(CLIENT_ID)
    return {}


def _graph_configs(provider: str) -> tuple[BadConfig, ...]:
    return (
        BadConfig("revoked-app", _graph_with(provider, _revoked_app), ("reconnect",)),
        BadConfig(
            "wrong-client-secret",
            _graph_with(
                provider,
                lambda server: {"credentials": {**app_credentials(), "client_secret": "nope"}},
            ),
            ("reconnect", "invalid_client"),
        ),
        BadConfig(
            "plain-http-graph-url",
            _graph_with(
                provider,
                lambda server: {"graph_url": server.graph_url.replace("https://", "http://")},
            ),
            ("https://",),
        ),
        BadConfig(
            "unknown-mailbox",
            lambda env: build_source(
                provider=provider,
                account="nobody@contoso.example",
                options=graph_options(env.fixture("graph")),
                credentials=app_credentials(),
            ),
            ("no mailbox", "nobody@contoso.example"),
        ),
    )


def _outlook_small_pages(env: CaseEnv, monkeypatch: pytest.MonkeyPatch) -> Sequence[Window]:
    monkeypatch.setattr(outlook_module, "PAGE_SIZE", SMALL_PAGE)
    return SAMPLE_WEEK


def _many_contacts(env: CaseEnv, monkeypatch: pytest.MonkeyPatch) -> Sequence[None]:
    """Graph's contact delta pages hold 10: add 25 more people to the default folder."""
    server: FakeGraph = env.fixture("graph")
    for n in range(25):
        server.add_contact(
            MAILBOX,
            {
                "displayName": f"Person {n}",
                "emailAddresses": [{"address": f"person{n}@example.com"}],
            },
        )
    return (None,)


def _graph_keeps_throttling(provider: str) -> BreakItem:
    """Every Graph call answers 429 until healed; the failing fetch goes through a source
    with short sleeps and three attempts."""

    def breaks(env: CaseEnv, source: Source, refs: Sequence[ItemRef]) -> ItemFailure:
        server: FakeGraph = env.fixture("graph")
        server.faults = GraphFaults(throttle_rate=1.0)

        def heal() -> None:
            server.faults = GraphFaults()

        impatient = impatient_graph_source(server, provider)
        return ItemFailure(
            target=refs[0], source=impatient, retryable=True, heal=heal, others_unaffected=False
        )

    return breaks


def _google(provider: str) -> MakeSource:
    def make(env: CaseEnv, sync_state: dict[str, Any] | None) -> Source:
        server, info = env.fixture("google")
        return google_source(server, info, provider, sync_state=sync_state)

    return make


def _google_with(
    provider: str, change: Callable[[FakeGmail, dict[str, Any]], dict[str, Any] | None]
) -> Callable[[CaseEnv], Source]:
    def make(env: CaseEnv) -> Source:
        server, info = env.fixture("google")
        return build_source(
            provider=provider,
            account=USER,
            options={"api_endpoint": server.base_url},
            credentials=change(server, info),
        )

    return make


def _one_event_a_page(env: CaseEnv, monkeypatch: pytest.MonkeyPatch) -> Sequence[Window]:
    """Calendar pages hold up to 2,500 events: make them hold one."""
    monkeypatch.setattr(calendar_source, "PAGE_SIZE", 1)
    return SAMPLE_WEEK


def _google_configs(provider: str) -> tuple[BadConfig, ...]:
    return (
        BadConfig("revoked-grant", _google_with(provider, _revoked_grant), ("reconnect",)),
        BadConfig(
            "wrong-client-secret",
            _google_with(provider, lambda server, info: {**info, "client_secret": "nope"}),
            ("reconnect",),
        ),
        BadConfig(
            "no-credentials",
            _google_with(provider, lambda server, info: None),
            ("no stored credentials",),
        ),
    )


def _google_keeps_failing(provider: str) -> BreakItem:
    """Every Google call answers 429 or 503 until healed, through a source with short
    sleeps and three attempts."""

    def breaks(env: CaseEnv, source: Source, refs: Sequence[ItemRef]) -> ItemFailure:
        server, info = env.fixture("google")
        server.faults.share = 1.0
        server.faults.kinds = ("429", "503")

        def heal() -> None:
            server.faults.share = 0.0

        impatient = google_source(server, info, provider)
        impatient.calls.max_attempts = 3  # type: ignore[attr-defined]
        impatient.calls._sleep = fast_sleep  # type: ignore[attr-defined]
        impatient.calls.budget._sleep = fast_sleep  # type: ignore[attr-defined]
        return ItemFailure(
            target=refs[0], source=impatient, retryable=True, heal=heal, others_unaffected=False
        )

    return breaks


PROMPT_SET = "brand-watch"
# Three batch days, with prompts that ask 1 + 2x2 + 3 = 8 runs a day.
PROMPT_DAYS = days(dt.date(2026, 12, 6), dt.date(2026, 12, 8))
PROMPTS = (
    PromptSpec(
        text="Which CRM should a five-person agency use: HubSpot or Pipedrive?",
        models=("gpt-4o-mini",),
        name="crm",
    ),
    PromptSpec(
        text="Compare Notion vs Confluence for an engineering wiki.",
        models=("gpt-4o-mini", "openai/gpt-4o-mini"),
        runs_per_day=2,
        name="wiki",
    ),
    PromptSpec(
        text="Recommend running shoes such as Nike Pegasus or Brooks Ghost.",
        models=("gpt-4.1-mini",),
        runs_per_day=3,
        name="shoes",
    ),
    PromptSpec(text="Which payroll tool do you trust?", models=("gpt-4o",), active=False),
)


@dataclass(frozen=True)
class PromptSetDatabase:
    """An app database holding the prompt set `PROMPT_SET` (integration ``set_id``) and
    another set whose prompts it must not list."""

    url: str
    set_id: int


@pytest.fixture
def prompt_sets(sqlite_url: str) -> PromptSetDatabase:
    with session_scope(sqlite_url) as session:
        watch = prompt_set(session, PROMPT_SET, create=True)
        for spec in PROMPTS:
            add_prompt(session, watch, spec)
        rivals = prompt_set(session, "competitors", create=True)
        add_prompt(session, rivals, PromptSpec(text="Is Zoho any good?", models=("gpt-4o",)))
        return PromptSetDatabase(sqlite_url, watch.id)


def _prompts(env: CaseEnv, sync_state: dict[str, Any] | None) -> Source:
    database: PromptSetDatabase = env.fixture("prompt_sets")
    return build_source(
        provider="prompts",
        account=PROMPT_SET,
        sync_state=sync_state,
        database_url=database.url,
        integration_id=database.set_id,
    )


def _prompt_set_at(database_url: str, *, account: str, integration_id: int | None) -> Source:
    return build_source(
        provider="prompts",
        account=account,
        database_url=database_url,
        integration_id=integration_id,
    )


PROMPT_CONFIGS = (
    BadConfig(
        "no-such-set",
        lambda env: _prompt_set_at(
            env.fixture("prompt_sets").url, account="launch-week", integration_id=None
        ),
        ("no prompt set named", "launch-week"),
    ),
    BadConfig(
        "set-removed",
        lambda env: _prompt_set_at(
            env.fixture("prompt_sets").url, account=PROMPT_SET, integration_id=9_999
        ),
        (PROMPT_SET, "no longer exists"),
    ),
    BadConfig(
        "no-app-database",
        lambda env: build_source(provider="prompts", account=PROMPT_SET),
        ("app database",),
    ),
    BadConfig(
        "database-not-migrated",
        lambda env: _prompt_set_at(
            f"sqlite:///{env.tmp_path / 'bad' / 'empty.db'}", account=PROMPT_SET, integration_id=1
        ),
        ("app database", "cannot be read"),
    ),
    BadConfig(
        "not-a-database",
        lambda env: _prompt_set_at(
            f"sqlite:///{env.text_file('app.db', 'prompts: crm, wiki')}",
            account=PROMPT_SET,
            integration_id=1,
        ),
        ("app database", "cannot be read"),
    ),
)


def _disable_prompt_of(env: CaseEnv, source: Source, refs: Sequence[ItemRef]) -> ItemFailure:
    """Disable the first run's prompt (one model, one run a day: no other listed run is
    its) after the day was listed; its run then ends skipped, not to be retried."""
    database: PromptSetDatabase = env.fixture("prompt_sets")
    target = refs[0]
    prompt_id = PromptRunKey.parse(target.external_id).prompt_id
    with session_scope(database.url) as session:
        prompt = session.get(Prompt, prompt_id)
        assert prompt is not None and prompt.runs_per_day == 1 and len(prompt.models) == 1
        disable_prompt(session, prompt, now=dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC))
    return ItemFailure(target=target, source=source, retryable=False)


def _imap(env: CaseEnv, sync_state: dict[str, Any] | None) -> Source:
    return imap_fixtures.imap_source(env.fixture("imap_sample"), sync_state=sync_state)


def _imap_with(**changes: Any) -> Callable[[CaseEnv], Source]:
    """An IMAP source of the sample account with a setting a person got wrong."""

    def make(env: CaseEnv) -> Source:
        server = env.fixture("imap_sample")
        password = changes.get("password", imap_fixtures.PASSWORD)
        more = {k: v for k, v in changes.items() if k != "password"}
        return imap_fixtures.imap_source(server, password=password, **more)

    return make


IMAP_CONFIGS = (
    BadConfig("wrong-password", _imap_with(password="wrong"), ("refused the login", "ann@")),
    BadConfig("missing-folder", _imap_with(folders=["Nope"]), ("no folder 'Nope'", "INBOX")),
    BadConfig(
        "plain-text-to-a-remote-host",
        _imap_with(host="imap.example.com", security="plain"),
        ("refusing to send", "imap.example.com"),
    ),
    BadConfig("untrusted-certificate", _imap_with(ca_file=None), ("--ca-file",)),
)


def _imap_message_expunged(env: CaseEnv, source: Source, refs: Sequence[ItemRef]) -> ItemFailure:
    """Delete the first listed message on the server, as a mail client would."""
    target = refs[0]
    imap_fixtures.expunge(env.fixture("imap_sample"), parse_key(target.external_id)[2])
    return ItemFailure(target=target, source=source, retryable=False)


def _dav(provider: str) -> MakeSource:
    def make(env: CaseEnv, sync_state: dict[str, Any] | None) -> Source:
        return dav_fixtures.dav_source(env.fixture("dav_sample"), provider, sync_state=sync_state)

    return make


def _dav_with(provider: str, **changes: Any) -> Callable[[CaseEnv], Source]:
    """A CalDAV/CardDAV source of the sample account with a setting a person got wrong."""

    def make(env: CaseEnv) -> Source:
        return dav_fixtures.dav_source(env.fixture("dav_sample"), provider, **changes)

    return make


def _dav_configs(provider: str, collection_option: str, what: str) -> tuple[BadConfig, ...]:
    return (
        BadConfig(
            "wrong-password", _dav_with(provider, password="wrong"), ("refused the login", "ann")
        ),
        BadConfig(
            f"missing-{what.replace(' ', '-')}",
            _dav_with(provider, **{collection_option: ["Nope"]}),
            (f"no {what} named 'Nope'", "the account has"),
        ),
        BadConfig(
            "plain-http-to-a-remote-host",
            _dav_with(provider, url="http://dav.example.com/"),
            ("plain HTTP", "dav.example.com"),
        ),
    )


def _dav_object_deleted(env: CaseEnv, source: Source, refs: Sequence[ItemRef]) -> ItemFailure:
    """Delete the first listed item's object on the server, as another client would."""
    target = refs[0]
    server = env.fixture("dav_sample")
    path = target.external_id.split("|", 1)[0]
    if path.endswith("/"):  # a calendar: find the object holding the event's UID
        uid = target.external_id.split("|")[1].split("#")[0]
        path = dav_fixtures.object_with_uid(server, path, uid)
    server.delete(dav_fixtures.USER, path)
    return ItemFailure(target=target, source=source, retryable=False)


CASES: tuple[SourceCase, ...] = (
    SourceCase(
        name="mailbox",
        provider="mailbox",
        make_source=_path_source("mailbox", SAMPLE_MBOX.name),
        bad_configs=_path_configs("mailbox", ".mbox", "not an mbox"),
        windows=SAMPLE_WEEK,
        expected_total=62,  # mbox entries; the two redelivered messages differ in headers
        arrange_paging=_small_pages(mailbox_source, SAMPLE_WEEK),
        break_item=_vanish_mbox_message,
    ),
    SourceCase(
        name="gmail",
        provider="gmail",
        make_source=_gmail,
        bad_configs=GMAIL_CONFIGS,
        windows=SAMPLE_WEEK,
        expected_total=62,  # the sample mbox's entries, each stored as its own message
        arrange_paging=_gmail_busy_day,
        break_item=_gmail_keeps_failing,
    ),
    SourceCase(
        name="imap",
        provider="imap",
        make_source=_imap,
        bad_configs=IMAP_CONFIGS,
        windows=SAMPLE_WEEK,
        expected_total=62,  # the sample mbox's entries, APPENDed with their From-line times
        arrange_paging=_small_pages(imap_source_module, SAMPLE_WEEK),
        break_item=_imap_message_expunged,
    ),
    SourceCase(
        name="caldav",
        provider="caldav",
        make_source=_dav("caldav"),
        bad_configs=_dav_configs("caldav", "calendars", "calendar"),
        windows=CALENDAR_QUARTER,
        expected_total=40,  # the sample calendar's objects PUT one UID each: as "ics"
        # The busy week only: every resumed listing asks the server again.
        arrange_paging=_small_pages(caldav_source, SAMPLE_WEEK),
        break_item=_dav_object_deleted,
    ),
    SourceCase(
        name="carddav",
        provider="carddav",
        make_source=_dav("carddav"),
        bad_configs=_dav_configs("carddav", "address_books", "address book"),
        windows=(None,),
        expected_total=13,  # the sample address book's cards, one resource each
        arrange_paging=_small_pages(carddav_source, (None,)),
        break_item=_dav_object_deleted,
    ),
    SourceCase(
        name="vcard",
        provider="vcard",
        make_source=_path_source("vcard", "sample_contacts.vcf"),
        bad_configs=_path_configs("vcard", ".vcf", "holds no vCard"),
        windows=(None,),
        expected_total=13,
        arrange_paging=_small_pages(vcard_source, (None,)),
        break_item=_vanish_card,
    ),
    SourceCase(
        name="ics",
        provider="ics",
        make_source=_path_source("ics", "sample_calendar.ics"),
        bad_configs=_path_configs("ics", ".ics", "holds no VCALENDAR"),
        windows=CALENDAR_QUARTER,
        # 33 Mon/Wed/Fri stand-ups minus one EXDATE (one more moved, still listed once),
        # plus 8 one-off events.
        expected_total=40,
        arrange_paging=_small_pages(ics_source, CALENDAR_QUARTER),
        break_item=_vanish_event,
    ),
    SourceCase(
        name="google-contacts",
        provider="google-contacts",
        make_source=_google("google-contacts"),
        bad_configs=_google_configs("google-contacts"),
        windows=(None,),
        expected_total=len(SAMPLE_PEOPLE),
        arrange_paging=_small_pages(people_source, (None,)),
        break_item=_google_keeps_failing("google-contacts"),
    ),
    SourceCase(
        name="google-calendar",
        provider="google-calendar",
        make_source=_google("google-calendar"),
        bad_configs=_google_configs("google-calendar"),
        windows=SAMPLE_WEEK,
        expected_total=SAMPLE_OCCURRENCES,
        arrange_paging=_one_event_a_page,
        break_item=_google_keeps_failing("google-calendar"),
    ),
    SourceCase(
        name="outlook",
        provider="outlook",
        make_source=_graph("outlook"),
        bad_configs=_graph_configs("outlook"),
        windows=SAMPLE_WEEK,
        expected_total=62,  # the sample mbox's entries, each stored as its own message
        arrange_paging=_outlook_small_pages,
        break_item=_graph_keeps_throttling("outlook"),
    ),
    SourceCase(
        name="microsoft-contacts",
        provider="microsoft-contacts",
        make_source=_graph("microsoft-contacts"),
        bad_configs=_graph_configs("microsoft-contacts"),
        windows=(None,),
        expected_total=len(SAMPLE_CONTACTS),
        arrange_paging=_many_contacts,
        break_item=_graph_keeps_throttling("microsoft-contacts"),
    ),
    SourceCase(
        name="prompts",
        provider="prompts",
        make_source=_prompts,
        bad_configs=PROMPT_CONFIGS,
        windows=PROMPT_DAYS,
        expected_total=3 * 8,
        arrange_paging=_small_pages(prompt_set_source, PROMPT_DAYS),
        break_item=_disable_prompt_of,
    ),
)
