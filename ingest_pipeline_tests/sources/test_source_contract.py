"""The Source contract, checked the same way on every source in `source_fixtures.CASES`.

Each test is something a user would notice if a source broke it: a bad configuration
explained in one clear sentence, every item imported on exactly one day, an interrupted
listing that resumes without losing or repeating items, one outcome for every item asked
for, failures that say whether trying again can help, and provider state that can be saved.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pytest

from ingest_pipeline.domain import FetchError, ItemRef, Page, RawItem, Window
from ingest_pipeline.sources.base import Source, SourceError
from ingest_pipeline.sources.registry import get_provider
from ingest_pipeline_tests.dav_fixtures import dav_sample, dav_server
from ingest_pipeline_tests.gmail_fixtures import gmail
from ingest_pipeline_tests.google_fixtures import google
from ingest_pipeline_tests.graph_fixtures import graph
from ingest_pipeline_tests.imap_fixtures import imap_sample
from ingest_pipeline_tests.sources.source_fixtures import (
    CASES,
    BadConfig,
    CaseEnv,
    SourceCase,
    prompt_sets,
)

# Fixtures, imported for pytest (cases ask for them by name).
__all__ = ["dav_sample", "dav_server", "gmail", "google", "graph", "imap_sample", "prompt_sets"]

STREAMS = frozenset({"mail", "contacts", "calendar_events", "prompt_runs"})
DATED_STREAMS = frozenset({"mail", "calendar_events", "prompt_runs"})
UNKNOWN_ID = "0000000000000000"  # shaped like a Gmail id: 16 hex digits
CANDIDATES = 5

Outcome = RawItem | FetchError
Listing = dict[Window | None, list[ItemRef]]


@pytest.fixture(params=CASES, ids=lambda case: case.name)
def case(request: pytest.FixtureRequest) -> SourceCase:
    """Each source in turn."""
    chosen: SourceCase = request.param
    return chosen


@pytest.fixture
def env(request: pytest.FixtureRequest, tmp_path: Path) -> CaseEnv:
    return CaseEnv(request, tmp_path)


@pytest.fixture
def source(case: SourceCase, env: CaseEnv) -> Source:
    """The case's source, built through the provider registry, with no saved state."""
    return case.make_source(env, None)


def day_of(window: Window | None) -> str:
    """A window for an assertion message: its UTC day, or ``snapshot``."""
    return "snapshot" if window is None else f"{window.start:%Y-%m-%d}"


def pages_of(
    source: Source, window: Window | None, cursor: str | None = None
) -> list[Page[ItemRef]]:
    return list(source.enumerate(window, cursor))


def ids_of(pages: Iterable[Page[ItemRef]]) -> list[str]:
    return [ref.external_id for page in pages for ref in page.items]


def listed(source: Source, windows: Sequence[Window | None]) -> Listing:
    """Every window's refs, each window listed from the start."""
    return {
        window: [ref for page in pages_of(source, window) for ref in page.items]
        for window in windows
    }


def fetch_all(source: Source, refs: Sequence[ItemRef]) -> list[Outcome]:
    """Fetch in the batch sizes the source's limits allow, as the fetch step does."""
    size = source.limits.fetch_batch_size
    return [item for at in range(0, len(refs), size) for item in source.fetch(refs[at : at + size])]


def by_id(outcomes: Iterable[Outcome]) -> dict[str, Outcome]:
    """Outcomes keyed by external id; an id that comes back twice fails the test."""
    found: dict[str, Outcome] = {}
    for outcome in outcomes:
        assert outcome.external_id not in found, f"{outcome.external_id} came back twice"
        found[outcome.external_id] = outcome
    return found


def busiest(listing: Mapping[Window | None, list[ItemRef]]) -> list[ItemRef]:
    """The first few refs of the window that lists the most items."""
    return max(listing.values(), key=len)[:CANDIDATES]


def brief(outcome: Outcome | None) -> str:
    """An outcome for an assertion message, without a megabyte of raw bytes."""
    if isinstance(outcome, RawItem):
        return f"RawItem({outcome.external_id!r}, {len(outcome.data)} bytes)"
    return repr(outcome)


def test_check_passes_on_a_ready_source(source: Source) -> None:
    """A correctly configured source passes its connection check (raises nothing)."""
    source.check()


BAD_CONFIGS = [
    pytest.param(bad, id=f"{case.name}-{bad.label}") for case in CASES for bad in case.bad_configs
]


@pytest.mark.parametrize("bad", BAD_CONFIGS)
def test_check_explains_a_bad_configuration(
    bad: BadConfig, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A wrong path or a dead credential is a `SourceError` whose one-line message names the
    problem, raised when the source is built or checked, never a stray exception."""
    with pytest.raises(SourceError) as raised:
        bad.make(CaseEnv(request, tmp_path)).check()
    message = str(raised.value)
    assert message.strip(), "the error has no message"
    assert "\n" not in message and "Traceback" not in message, message
    missing = [fragment for fragment in bad.says if fragment not in message]
    assert not missing, f"{message!r} does not mention {missing}"


def test_streams_are_known_and_match_the_kind_of_windows(case: SourceCase, source: Source) -> None:
    """The source says which streams it yields, as the registry does, and they are all
    dated (enumerated one day at a time) or all snapshots (enumerated with no window)."""
    streams = getattr(source, "streams", None)
    assert isinstance(streams, frozenset), f"{type(source).__name__} declares no streams"
    assert streams, "the source yields no stream"
    assert streams <= STREAMS, f"unknown streams {sorted(streams - STREAMS)}"
    assert streams == frozenset(get_provider(case.provider).streams)
    dated = streams <= DATED_STREAMS
    assert dated or not streams & DATED_STREAMS, f"{sorted(streams)} mixes dated and snapshot"
    expected_kind = Window if dated else type(None)
    assert all(isinstance(window, expected_kind) for window in case.windows)


def test_every_item_lands_in_exactly_one_window(case: SourceCase, source: Source) -> None:
    """Listing the windows that cover the sample yields each item once, all of them, and a
    dated item's receipt time (as listed, else as fetched) lies inside its window."""
    listing = listed(source, case.windows)
    every_id = [ref.external_id for refs in listing.values() for ref in refs]
    repeated = sorted(i for i, count in Counter(every_id).items() if count > 1)
    assert not repeated, f"listed more than once: {repeated}"
    assert len(every_id) == case.expected_total
    for window, refs in listing.items():
        if window is None:
            continue
        fetched = by_id(fetch_all(source, refs))
        for ref in refs:
            outcome = fetched.get(ref.external_id)
            as_fetched = outcome.received_at if isinstance(outcome, RawItem) else None
            times = [t for t in (ref.received_at, as_fetched) if t is not None]
            assert times, f"{ref.external_id} has no receipt time, listed or fetched"
            outside = [t.isoformat() for t in times if not window.contains(t)]
            assert not outside, f"{ref.external_id} listed on {day_of(window)} at {outside}"


def test_listing_resumes_from_every_cursor_without_loss_or_repeat(
    case: SourceCase, env: CaseEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new source given any page's cursor lists exactly the items after that page; the
    last page's cursor lists nothing more (a run killed after its last page loses nothing
    and repeats nothing)."""
    arrange = case.arrange_paging
    windows = arrange(env, monkeypatch) if arrange else case.windows
    most_pages = 0
    for window in windows:
        pages = pages_of(case.make_source(env, None), window)
        most_pages = max(most_pages, len(pages))
        for number, page in enumerate(pages, start=1):
            resumed = ids_of(pages_of(case.make_source(env, None), window, page.cursor))
            assert resumed == ids_of(pages[number:]), (
                f"resuming {day_of(window)} after page {number} of {len(pages)}"
                f" from cursor {page.cursor!r}"
            )
    if arrange:
        assert most_pages > 1, "the paging arrangement never produced a second page"


def test_fetch_returns_exactly_one_outcome_per_ref(case: SourceCase, source: Source) -> None:
    """Fetching every listed item gives one outcome per ref and no other; each sample item
    downloads as non-empty bytes."""
    refs = [ref for refs in listed(source, case.windows).values() for ref in refs]
    outcomes = fetch_all(source, refs)
    assert Counter(o.external_id for o in outcomes) == Counter(r.external_id for r in refs)
    failed = [brief(o) for o in outcomes if not isinstance(o, RawItem)]
    assert not failed, f"sample items that did not download: {failed}"
    raw = [o for o in outcomes if isinstance(o, RawItem)]
    empty = [o.external_id for o in raw if not (isinstance(o.data, bytes) and o.data)]
    assert not empty, f"no bytes for {empty}"


def test_an_unknown_id_is_a_fetch_error_and_the_rest_still_come_back(
    case: SourceCase, source: Source
) -> None:
    """An id the provider does not know is a permanent `FetchError` with a reason, not an
    exception, and the known items asked for in the same call still arrive."""
    first, second = busiest(listed(source, case.windows))[:2]
    unknown = ItemRef(external_id=UNKNOWN_ID, received_at=first.received_at)
    try:
        found = by_id(source.fetch([first, unknown, second]))
    except Exception as exc:
        pytest.fail(f"fetch raised {exc!r} for an unknown id")
    assert set(found) == {first.external_id, UNKNOWN_ID, second.external_id}
    error = found[UNKNOWN_ID]
    assert isinstance(error, FetchError), brief(error)
    assert error.reason.strip(), "the FetchError gives no reason"
    assert not error.retryable, f"an unknown id would be retried forever: {error.reason}"
    for ref in (first, second):
        assert isinstance(found[ref.external_id], RawItem), brief(found[ref.external_id])


def test_a_failing_item_says_whether_to_try_again(
    case: SourceCase, env: CaseEnv, source: Source
) -> None:
    """An item that fails is a `FetchError` marked retryable exactly when trying again can
    help: a transient provider error is, and heals on a later fetch; an item gone from its
    file is not, and the items around it still come back unchanged."""
    if case.break_item is None:
        pytest.skip(case.no_failure_reason)
    candidates = busiest(listed(source, case.windows))
    baseline = by_id(fetch_all(source, candidates))
    failure = case.break_item(env, source, candidates)
    target = failure.target.external_id
    others = [ref for ref in candidates if ref.external_id != target]

    outcomes = by_id(failure.source.fetch([failure.target, *others]))

    assert set(outcomes) == {ref.external_id for ref in candidates}
    error = outcomes[target]
    assert isinstance(error, FetchError), f"the failing item came back as {brief(error)}"
    assert error.reason.strip(), "the FetchError gives no reason"
    assert error.retryable is failure.retryable, error
    if failure.others_unaffected:
        changed = [
            f"{ref.external_id}: {brief(outcomes[ref.external_id])}"
            for ref in others
            if outcomes[ref.external_id] != baseline[ref.external_id]
        ]
        assert not changed, f"other items changed after one failed: {changed}"
    if failure.heal is not None:
        failure.heal()
        healed = by_id(failure.source.fetch(candidates))
        assert healed == baseline, "a retryable failure did not heal on the next fetch"


def test_sync_state_is_none_or_json_the_next_run_can_use(
    case: SourceCase, env: CaseEnv, source: Source
) -> None:
    """After a full listing, the provider state is None or a dict that survives a trip
    through JSON (the integrations table) and builds a source that passes its check."""
    listed(source, case.windows)
    sync_state = getattr(source, "sync_state", None)
    assert callable(sync_state), f"{type(source).__name__} has no sync_state()"
    state = sync_state()
    if state is None:
        return
    assert isinstance(state, dict), f"sync state is a {type(state).__name__}"
    try:
        stored = json.loads(json.dumps(state))
    except (TypeError, ValueError) as exc:
        pytest.fail(f"sync state {state!r} cannot be stored as JSON: {exc}")
    assert stored == state, "sync state changes on its way through JSON"
    case.make_source(env, state).check()
