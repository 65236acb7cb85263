"""Benchmark: Google Calendar and Google Contacts listing and fetching against the per-user
quota ceilings, compared with the same calls made back to back without pacing.

Run by hand from the project root (no timing assertions; see bench/README.md)::

    .venv/bin/python bench/google_listing_bench.py [--quick] [--days N] [--people N]
        [--latency S] [--one-at-a-time]

The server is the test suite's FakeGmail (Gmail, People v1 and Calendar v3), with 50 ms
(``--latency``) added to every HTTP request and the real per-user quotas in a sliding 60 s
window: Calendar 600 requests a minute (refused with 403 rateLimitExceeded, no Retry-After),
People 90 reads a minute (refused with 429 RESOURCE_EXHAUSTED and a Retry-After). The
ceilings are 10 and 1.5 requests a second. Four clients run at once, each in its own process
with its own freshly filled server, so every quota window starts empty:

calendar (a) pipeline: one `GoogleCalendarSource`; per day ``enumerate(Window.for_day(day))``
    then ``fetch`` of its refs (which lists the day again): two ``events.list`` a day;
calendar (b) baseline: the same two ``events.list`` a day through googleapiclient, no budget,
    sleeping Retry-After (1 s when there is none) when refused;
contacts (a) pipeline: one `GoogleContactsSource`; ``enumerate(None, None)`` (1,000 a page),
    then ``fetch`` in the fetch step's batches of 500 refs (``people.getBatchGet``, 200 a call);
contacts (b) baseline: the same calls through googleapiclient, no budget, sleeping Retry-After.

The last line printed is the pipelines' ``share of ceiling``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.metadata
import json
import multiprocessing
import os
import platform
import random
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # ingest_pipeline_tests is not installed into the venv

from googleapiclient.errors import HttpError  # noqa: E402

from ingest_pipeline.domain import FetchError, ItemRef, Window  # noqa: E402
from ingest_pipeline.settings import Settings  # noqa: E402
from ingest_pipeline.sources.google import calendar_source, people_source  # noqa: E402
from ingest_pipeline.sources.google.calendar_source import GoogleCalendarSource  # noqa: E402
from ingest_pipeline.sources.google.google_auth import (  # noqa: E402
    SCOPES,
    GoogleEndpoint,
    authorized_http,
    error_reason,
    google_credentials,
    google_service,
    is_transient,
    retry_after_seconds,
)
from ingest_pipeline.sources.google.people_source import GoogleContactsSource  # noqa: E402
from ingest_pipeline_tests.fakes.gmail_server import FakeGmail, ServerStats  # noqa: E402
from ingest_pipeline_tests.gmail_fixtures import USER, credentials_info  # noqa: E402

SEED = 20261102
DAY0 = dt.date(2025, 1, 6)
LIMITS = {  # requests per minute per user, Google's defaults as the sources know them
    "calendar": calendar_source.REQUESTS_PER_MINUTE,
    "contacts": people_source.READS_PER_MINUTE,
}
WINDOW = 60.0  # both quotas are per minute (the fake's sliding window)
ONE_OFFS_PER_DAY, SERIES = 18, 2  # each daily series adds one occurrence a day
PER_DAY = ONE_OFFS_PER_DAY + SERIES
# The fetch step hands a source min(batch_size, limits.fetch_batch_size) refs at a time.
FETCH_BATCH = min(
    int(Settings.model_fields["batch_size"].default), GoogleContactsSource.limits.fetch_batch_size
)
SAMPLE_SECONDS = 0.05
SETTLE_SECONDS = 10.0  # a pipeline's budget burst is over by then (~8 s for Calendar's 30)
TARGET_SHARE, TARGET_REFUSED = 0.90, 0.01
SCENARIOS = (
    ("calendar", "(a) pipeline, GoogleCalendarSource"),
    ("calendar", "(b) baseline, unpaced listing"),
    ("contacts", "(a) pipeline, GoogleContactsSource"),
    ("contacts", "(b) baseline, unpaced listing"),
)
WORDS: tuple[str, ...] = ("intro", "screen", "debrief", "pipeline", "client", "sourcing")
WORDS += ("offer", "panel", "review", "sync", "kickoff", "reference", "onsite", "contract")
WORDS += ("rate", "roadmap")
GIVEN = ("Ann", "Bo", "Alex", "Dee", "Eve", "Femi", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea")
FAMILY = ("Lee", "Chen", "Kim", "Patel", "Moss", "Okafor", "Novak", "Silva", "Berg", "Ito")


def calendar_events(days: int) -> list[dict[str, Any]]:
    """Two daily series (one kept in Europe/London time) over ``days`` days from DAY0, and
    18 one-off meetings a day with 1-3 guests: 20 occurrences a day, from a fixed seed."""
    rng = random.Random(SEED)
    me = {"email": USER, "self": True, "responseStatus": "accepted"}
    daily = [f"RRULE:FREQ=DAILY;COUNT={days}"]
    events: list[dict[str, Any]] = [
        {
            "summary": "Stand-up",
            "start": {"dateTime": f"{DAY0}T08:00:00Z"},
            "end": {"dateTime": f"{DAY0}T08:15:00Z"},
            "recurrence": daily,
        },
        {
            "summary": "Team check-in",
            "start": {"dateTime": f"{DAY0}T09:30:00", "timeZone": "Europe/London"},
            "end": {"dateTime": f"{DAY0}T09:45:00", "timeZone": "Europe/London"},
            "recurrence": daily,
        },
    ]
    for n in range(days):
        midnight = dt.datetime.combine(DAY0 + dt.timedelta(days=n), dt.time(), tzinfo=dt.UTC)
        for k in range(ONE_OFFS_PER_DAY):
            start = midnight + dt.timedelta(hours=10, minutes=15 * rng.randrange(32))
            end = start + dt.timedelta(minutes=rng.choice((15, 30, 45, 60)))
            guests = [
                {"email": f"{rng.choice(GIVEN).lower()}{rng.randrange(500)}@talent.example"}
                for _ in range(rng.randint(1, 3))
            ]
            events.append(
                {
                    "summary": f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} #{n}-{k}",
                    "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%SZ")},
                    "end": {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%SZ")},
                    "attendees": [me, *guests],
                }
            )
    return events


def address_book(count: int) -> list[dict[str, Any]]:
    """``count`` contacts with a unique email each, some with a phone and an employer."""
    rng = random.Random(SEED)
    people = []
    for i in range(count):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        person: dict[str, Any] = {
            "names": [{"givenName": given, "familyName": family}],
            "emailAddresses": [{"value": f"{given}.{family}.{i}@talent.example".lower()}],
        }
        if rng.random() < 0.6:
            person["phoneNumbers"] = [{"value": f"+1 415 555 {i % 10_000:04d}", "type": "mobile"}]
        if rng.random() < 0.5:
            person["organizations"] = [{"name": f"{rng.choice(FAMILY)} Partners", "title": "CTO"}]
        people.append(person)
    return people


def digest(items: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(items, sort_keys=True).encode()).hexdigest()[:12]


@dataclass
class Run:
    """What one client delivered, and the server's counters over time (sent back from its
    process to the parent)."""

    api: str  # "calendar" or "contacts"
    label: str
    wanted: int  # items the run should deliver
    seconds: float = 0.0
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # t, calls, refused
    items: int = 0
    slept: float = 0.0  # seconds in sleep (budget and backoff; baseline: Retry-After)
    problems: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    methods: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)  # other than 200
    server_errors: int = 0

    @property
    def baseline(self) -> bool:
        return self.label.startswith("(b)")

    @property
    def ceiling(self) -> float:
        return LIMITS[self.api] / WINDOW

    @property
    def calls(self) -> int:
        return self.samples[-1][1] if self.samples else 0

    @property
    def refused(self) -> int:
        return self.samples[-1][2] if self.samples else 0

    @property
    def accepted(self) -> int:
        return self.calls - self.refused

    @property
    def refused_share(self) -> float:
        return self.refused / self.calls if self.calls else 0.0

    @property
    def whole_windows(self) -> int:
        return int(self.seconds // WINDOW) if self.baseline else 0

    @property
    def steady_rate(self) -> float:
        """Accepted calls a second: a baseline over whole windows from its start, a pipeline
        over its last window (its budget's start burst is over by then); a run too short for
        that over the middle 80% of its accepted calls."""
        if self.whole_windows:
            span = self.whole_windows * WINDOW
            return self._accepted_at(span) / span
        if not self.baseline and self.seconds >= WINDOW + SETTLE_SECONDS:
            # From the first sample in the last window: calls after it, over the time since.
            t0, n0 = next((t, c - r) for t, c, r in self.samples if t >= self.seconds - WINDOW)
            return (self.accepted - n0) / (self.seconds - t0)
        total = self.accepted
        if total < 10:
            return 0.0
        (t0, n0), (t1, n1) = self._reached(total // 10 + 1), self._reached(total - total // 10)
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0

    @property
    def steady_how(self) -> str:
        if self.whole_windows:
            return f"{self.whole_windows} x {WINDOW:g} s"
        if not self.baseline and self.seconds >= WINDOW + SETTLE_SECONDS:
            return f"last {WINDOW:g} s"
        return "middle 80%"

    def _accepted_at(self, moment: float) -> int:
        """Accepted calls by ``moment`` (the last sample at or before it)."""
        return max((c - r for t, c, r in self.samples if t <= moment), default=0)

    def _reached(self, count: int) -> tuple[float, int]:
        """(time, accepted calls) at the first sample with at least ``count`` accepted."""
        return next((t, c - r) for t, c, r in self.samples if c - r >= count)

    @property
    def busy_ms(self) -> float:
        """Milliseconds per call outside sleeps: latency and both sides' work."""
        return (self.seconds - self.slept) / self.calls * 1000 if self.calls else 0.0


def counters(server: FakeGmail, api: str) -> tuple[int, int]:
    """(USER's calls to ``api`` the server got, calls its quota refused)."""
    stats = server.stats
    by_user = stats.calendar_calls_by_user if api == "calendar" else stats.people_calls_by_user
    return by_user[USER], stats.rate_limited


class Sleeper:
    """``time.sleep`` that adds up what it slept (given to a source as its ``sleep``)."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def __call__(self, seconds: float) -> None:
        self.run.slept += seconds
        time.sleep(seconds)


Work = Callable[[], None]


def check_event(run: Run, expected: dict[str, str], key: str, event: dict[str, Any]) -> None:
    """The event's summary is the one added (an instance: its series')."""
    event_id = key.partition("|")[2]
    want = expected.get(event_id) or expected.get(event_id.rpartition("_")[0])
    if event.get("summary") != want:
        run.problems.append(f"{key}: summary {event.get('summary')!r}, not {want!r}")


def check_person(run: Run, expected: dict[str, str], name: str, person: dict[str, Any]) -> None:
    """The person's first email is the one added."""
    emails = [e.get("value") for e in person.get("emailAddresses", [])]
    if emails[:1] != [expected.get(name)]:
        run.problems.append(f"{name}: emails {emails}, not {expected.get(name)!r}")


def calendar_pipeline(
    run: Run,
    server: FakeGmail,
    info: dict[str, Any],
    expected: dict[str, str],
    days: list[dt.date],
) -> Work:
    """Per day, as a partition run does: enumerate the day, then fetch its refs."""
    endpoint = GoogleEndpoint(api_endpoint=server.base_url)

    source = GoogleCalendarSource(
        info, endpoint=endpoint, requests_per_minute=LIMITS["calendar"], sleep=Sleeper(run)
    )

    def work() -> None:
        for day in days:
            refs = [r for page in source.enumerate(Window.for_day(day), None) for r in page.items]
            if len(refs) != PER_DAY:
                run.problems.append(f"{day}: {len(refs)} occurrences listed")
            for item in source.fetch(refs):
                if isinstance(item, FetchError):
                    run.problems.append(f"{item.external_id}: {item.reason}")
                else:
                    run.items += 1
                    check_event(run, expected, item.external_id, json.loads(item.data))
        run.extra = budget_extra(source.calls.budget, source.requests_retried)

    return work


def contacts_pipeline(
    run: Run, server: FakeGmail, info: dict[str, Any], expected: dict[str, str]
) -> Work:
    """Enumerate everyone, then fetch in the fetch step's batches."""
    endpoint = GoogleEndpoint(api_endpoint=server.base_url)

    source = GoogleContactsSource(
        info, endpoint=endpoint, requests_per_minute=LIMITS["contacts"], sleep=Sleeper(run)
    )

    def work() -> None:
        refs: list[ItemRef] = [r for page in source.enumerate(None, None) for r in page.items]
        if len(refs) != run.wanted:
            run.problems.append(f"{len(refs)} people listed, not {run.wanted}")
        for at in range(0, len(refs), FETCH_BATCH):
            for item in source.fetch(refs[at : at + FETCH_BATCH]):
                if isinstance(item, FetchError):
                    run.problems.append(f"{item.external_id}: {item.reason}")
                else:
                    run.items += 1
                    check_person(run, expected, item.external_id, json.loads(item.data))
        run.extra = budget_extra(source.calls.budget, source.requests_retried)

    return work


def budget_extra(budget: Any, retried: int) -> dict[str, Any]:
    return {
        "waited": budget.waited_seconds,
        "retried": retried,
        "capacity": budget.capacity,
        "rate": budget.rate,
    }


def call_unpaced(run: Run, request: Any) -> Any:
    """``request.execute()``; when refused (429, 403 rateLimitExceeded) sleep Retry-After, or
    1 s when there is none, and ask again."""
    while True:
        try:
            return request.execute(num_retries=0)
        except HttpError as exc:
            if not is_transient(exc):
                raise
            pause = retry_after_seconds(exc, 1.0)
            reason = f"{exc.resp.status} {error_reason(exc)}"
            if exc.resp.get("retry-after") is None:
                reason += " (no Retry-After)"
            run.extra[reason] = run.extra.get(reason, 0) + 1
            run.slept += pause
            time.sleep(pause)


def calendar_baseline(
    run: Run,
    server: FakeGmail,
    info: dict[str, Any],
    expected: dict[str, str],
    days: list[dt.date],
) -> Work:
    """Per day, the pipeline's two ``events.list`` calls, back to back."""
    credentials = google_credentials(info, SCOPES["calendar_events"])
    events = google_service(
        "calendar", "v3", authorized_http(credentials, 60.0), server.base_url
    ).events()

    def listing(day: dt.date) -> list[dict[str, Any]]:
        window = Window.for_day(day)
        items: list[dict[str, Any]] = []
        page = None
        while True:
            params: dict[str, Any] = {
                "calendarId": "primary",
                "timeMin": window.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "timeMax": window.end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "singleEvents": True,
                "showDeleted": True,
                "maxResults": calendar_source.PAGE_SIZE,
            }
            if page:
                params["pageToken"] = page
            answer = call_unpaced(run, events.list(**params))
            items += answer.get("items", [])
            page = answer.get("nextPageToken")
            if not page:
                return items

    def work() -> None:
        for day in days:
            listed = {event["id"] for event in listing(day)}
            if len(listed) != PER_DAY:
                run.problems.append(f"{day}: {len(listed)} occurrences listed")
            for event in listing(day):
                if event["id"] in listed:
                    run.items += 1
                    check_event(run, expected, f"primary|{event['id']}", event)

    return work


def contacts_baseline(
    run: Run, server: FakeGmail, info: dict[str, Any], expected: dict[str, str]
) -> Work:
    """The pipeline's calls: every page of connections, then batchGets in its batches."""
    credentials = google_credentials(info, SCOPES["contacts"])
    people = google_service(
        "people", "v1", authorized_http(credentials, 60.0), server.base_url
    ).people()
    fields, size = people_source.PERSON_FIELDS, people_source.BATCH_GET_SIZE

    def work() -> None:
        names: list[str] = []
        page = None
        while True:
            answer = call_unpaced(
                run,
                people.connections().list(
                    resourceName="people/me",
                    personFields=fields,
                    pageSize=people_source.PAGE_SIZE,
                    requestSyncToken=True,
                    **({"pageToken": page} if page else {}),
                ),
            )
            names += [p["resourceName"] for p in answer.get("connections", [])]
            page = answer.get("nextPageToken")
            if not page:
                break
        if len(names) != run.wanted:
            run.problems.append(f"{len(names)} people listed, not {run.wanted}")
        for batch in range(0, len(names), FETCH_BATCH):
            chunk = names[batch : batch + FETCH_BATCH]
            for at in range(0, len(chunk), size):
                request = people.getBatchGet(
                    resourceNames=chunk[at : at + size], personFields=fields
                )
                for response in call_unpaced(run, request).get("responses", []):
                    if response.get("person"):
                        run.items += 1
                        name = response["requestedResourceName"]
                        check_person(run, expected, name, response["person"])

    return work


def run_scenario(index: int, options: dict[str, Any], barrier: Any, results: Any) -> None:
    """In its own process: fill a fresh server, build the client, wait for the others, run
    it while a thread samples the server's counters, and send back the `Run` (a failure
    too, breaking the barrier so that the others do not wait for this one)."""
    api, label = SCENARIOS[index]
    run = Run(api, label, 0)
    try:
        sample_and_run(run, options, barrier)
    except Exception:
        if barrier is not None:
            barrier.abort()
        run.problems.append(traceback.format_exc())
    progress(f"  {api} {label} done in {run.seconds:.1f} s")
    results.put((index, asdict(run)))


def sample_and_run(run: Run, options: dict[str, Any], barrier: Any) -> None:
    api = run.api
    kwargs: dict[str, Any] = {"latency": options["latency"], "seed": SEED}
    if api == "calendar":
        kwargs |= {"calendar_requests_per_minute": LIMITS[api], "calendar_quota_status": 403}
    else:
        kwargs |= {"people_requests_per_minute": LIMITS[api]}
    with FakeGmail(**kwargs) as server:
        token = server.add_user(USER)
        info = credentials_info(server, token)
        if api == "calendar":
            added = calendar_events(options["days"])
            expected = {server.add_event(USER, "primary", e): e["summary"] for e in added}
            run.wanted = options["days"] * PER_DAY
            days = [DAY0 + dt.timedelta(days=n) for n in range(options["days"])]
            build = calendar_baseline if run.baseline else calendar_pipeline
            work = build(run, server, info, expected, days)
        else:
            people = address_book(options["people"])
            expected = {server.add_person(USER, p): p["emailAddresses"][0]["value"] for p in people}
            run.wanted = len(people)
            build_contacts = contacts_baseline if run.baseline else contacts_pipeline
            work = build_contacts(run, server, info, expected)
        server.stats = ServerStats()
        samples: list[tuple[float, int, int]] = []
        stop = threading.Event()
        if barrier is not None:
            barrier.wait()
        start = time.perf_counter()

        def sample() -> None:
            while not stop.wait(SAMPLE_SECONDS):
                samples.append((time.perf_counter() - start, *counters(server, api)))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            work()
        except Exception:
            run.problems.append(traceback.format_exc())
        run.seconds = time.perf_counter() - start
        stop.set()
        sampler.join()
        run.samples = [*samples, (run.seconds, *counters(server, api))]  # nothing in flight
        run.methods = {k.split(".", 1)[1]: v for k, v in server.stats.by_method.items()}
        run.statuses = {k: v for k, v in server.stats.status_counts.items() if k != 200}
        run.server_errors = len(server.server_errors)


def run_all(options: dict[str, Any], *, together: bool) -> list[Run]:
    """Every scenario in its own process: all at once (started on a barrier once every
    server is filled), or one after another."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    barrier = context.Barrier(len(SCENARIOS)) if together else None
    processes = [
        context.Process(target=run_scenario, args=(i, options, barrier, results))
        for i in range(len(SCENARIOS))
    ]
    found: dict[int, Run] = {}
    for process in processes:
        process.start()
        if not together:
            index, data = results.get()
            found[index] = Run(**data)
            process.join()
    for _ in range(len(processes) - len(found)):
        index, data = results.get()
        found[index] = Run(**data)
    for process in processes:
        process.join()
    return [found[i] for i in range(len(SCENARIOS))]


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def progress(text: str) -> None:
    sys.stdout.flush()  # keeps the two streams in order when both go to one file
    print(text, file=sys.stderr, flush=True)


def print_report(runs: list[Run]) -> None:
    head = (
        f"{'scenario':<44}{'calls':>6}{'refused':>8}{'ref %':>7}{'seconds':>8}{'calls/s':>8}"
        f"{'steady/s':>9}{'over':>12}{'ceiling/s':>10}{'share':>8}{'items':>7}{'items/s':>8}"
        f"{'ms/call':>8}"
    )
    print()
    print(head)
    print("-" * len(head))
    for run in runs:
        print(
            f"{run.api + ' ' + run.label:<44}{run.calls:>6}{run.refused:>8}"
            f"{run.refused_share:>7.1%}{run.seconds:>8.1f}"
            f"{run.accepted / max(run.seconds, 1e-9):>8.2f}"
            f"{run.steady_rate:>9.2f}{run.steady_how:>12}{run.ceiling:>10.2f}"
            f"{run.steady_rate / run.ceiling:>8.1%}{run.items:>7}"
            f"{run.items / max(run.seconds, 1e-9):>8.1f}{run.busy_ms:>8.0f}"
        )
    print(
        "\ncalls: API calls the server got (refused ones included); refused: those the "
        "per-user quota refused; calls/s: accepted\ncalls over the whole run; steady/s: "
        "accepted calls a second over what 'over' says: a pipeline over its last 60 s\n(one "
        "quota window; its budget's burst at the start is long over), a baseline over whole "
        "60 s windows from its start\n(a client faster than the ceiling spends a fresh window "
        "early, then waits; whole windows hold at most the limit each,\nas in the long run); "
        "share: steady/s / ceiling/s; items: events or people delivered; ms/call: the run's "
        "time\noutside sleeps (budget, backoff, Retry-After) per call, i.e. latency and both "
        "sides' work"
    )
    print()
    for run in runs:
        if run.baseline:
            refusals = {k: v for k, v in run.extra.items()}
            text = f"{run.slept:.0f} s slept on refusals {refusals or '{}'}"
        else:
            text = (
                f"{run.extra.get('waited', 0):.1f} s waited in QuotaBudget.acquire, "
                f"{run.extra.get('retried', 0)} calls asked again"
            )
        print(
            f"{run.api} {run.label[:3]}: calls {run.methods}, other statuses "
            f"{run.statuses or '{}'}; {text}"
        )
    print()
    for run in runs:
        if not run.baseline and "rate" in run.extra:
            capacity, rate = run.extra["capacity"], run.extra["rate"]
            print(
                f"pacing bound, {run.api}: QuotaBudget refills ({LIMITS[run.api]} - {capacity})"
                f" / {WINDOW:g} s = {rate:.2f}/s = {rate / run.ceiling:.1%} of the ceiling "
                f"({capacity} = its size, the burst it allows at the start)"
            )
    contacts = runs[2]
    if contacts.wanted:
        print(
            f"contacts calls per 1,000 people: {contacts.calls / contacts.wanted * 1000:.2f} "
            f"(pages of {people_source.PAGE_SIZE}; batchGets of at most "
            f"{people_source.BATCH_GET_SIZE} within the fetch step's batches of {FETCH_BATCH})"
        )
    print("\nverification:")
    for run in runs:
        print(
            f"  {run.api} {run.label[:3]} {run.items} of {run.wanted} items delivered, "
            f"{len(run.problems)} problems, {run.server_errors} server errors"
        )
        for problem in run.problems[:5]:
            print(f"    {problem.strip()}")
    print("\ntargets (the issue), pipelines:")
    shares = []
    for run in runs:
        if run.baseline:
            continue
        share = run.steady_rate / run.ceiling
        shares.append(f"{run.api} {share:.1%}")
        print(
            f"  {run.api:<9}>= {TARGET_SHARE:.0%} of the ceiling: {share:.1%} -> "
            f"{met(share >= TARGET_SHARE)};  < {TARGET_REFUSED:.0%} refused: "
            f"{run.refused_share:.1%} ({run.refused} of {run.calls}) -> "
            f"{met(run.refused_share < TARGET_REFUSED)}"
        )
    print(f"share of ceiling: {', '.join(shares)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, under 2 minutes")
    parser.add_argument("--days", type=int, help="calendar days listed (720; quick 360)")
    parser.add_argument("--people", type=int, help="contacts (50000; quick 15000)")
    parser.add_argument(
        "--latency", type=float, default=0.05, help="seconds added to every request (0.05)"
    )
    parser.add_argument(
        "--one-at-a-time",
        action="store_true",
        help="run the four clients one after another rather than at once (about 4x longer)",
    )
    args = parser.parse_args()
    options = {
        "days": args.days or (360 if args.quick else 720),
        "people": args.people or (15_000 if args.quick else 50_000),
        "latency": args.latency,
    }
    print(
        f"Google listing benchmark: FakeGmail latency {args.latency * 1000:.0f} ms per request; "
        f"per user, sliding {WINDOW:g} s: Calendar {LIMITS['calendar']}/min (ceiling "
        f"{LIMITS['calendar'] / WINDOW:g}/s, refused with 403), People {LIMITS['contacts']}/min"
        f" (ceiling {LIMITS['contacts'] / WINDOW:g}/s, refused with 429)"
    )
    print(
        f"Python {platform.python_version()}, google-api-python-client "
        f"{importlib.metadata.version('google-api-python-client')}, httplib2 "
        f"{importlib.metadata.version('httplib2')}, {os.cpu_count()} CPUs, load average "
        f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    days, people = options["days"], options["people"]
    print(
        f"calendar: {days} days from {DAY0}, {PER_DAY} occurrences a day ({ONE_OFFS_PER_DAY} "
        f"one-off, {SERIES} from daily series), {days * PER_DAY} in all (sha256 "
        f"{digest(calendar_events(days))}); contacts: {people} (sha256 "
        f"{digest(address_book(people))}); seed {SEED}"
    )
    together = not args.one_at_a_time
    print(
        "each client in its own process with its own fresh server, "
        + ("all four at once" if together else "one after another")
    )
    progress("filling the servers and running the clients ...")
    runs = run_all(options, together=together)
    print_report(runs)
    failed = any(run.problems or run.server_errors or run.items != run.wanted for run in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
