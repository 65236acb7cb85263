"""One prompt run as the stream sees it: its ledger id, the record fetch stores and parse
checks, the input the model is asked, and where the entities its answer lists sit."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from ingest_pipeline.domain import FetchError, RawItem, Window
from ingest_pipeline.extraction.tasks import get_task
from ingest_pipeline.sources.registry import build_source
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.prompts import (
    PromptSpec,
    add_prompt,
    disable_prompt,
    find_prompt,
    prompt_set,
)
from ingest_pipeline.streams.prompt_runs.entity_mentions import (
    LocatedMention,
    locate,
    located_mentions,
)
from ingest_pipeline.streams.prompt_runs.prompt_run import BadPromptRun, PromptRun, PromptRunKey
from ingest_pipeline.streams.registry import get_stream
from ingest_pipeline.streams.stream_kind import ParseOptions, UnparseableItem

DEC7 = dt.date(2026, 12, 7)
CRM = "Which CRM should a five-person agency use: HubSpot or Pipedrive?"
KIND = get_stream("prompt_runs")
TASK = get_task("prompt_answer")


def a_run(
    *,
    batch_day: dt.date = DEC7,
    prompt_id: int = 12,
    run_index: int = 2,
    model: str = "gpt-4o-mini",
    prompt_name: str = "crm",
    text: str = CRM,
) -> PromptRun:
    key = PromptRunKey(batch_day, prompt_id, run_index, model)
    return PromptRun(key=key, prompt_name=prompt_name, text=text)


def parsed(run: PromptRun) -> dict[str, Any]:
    return KIND.parse(run.to_bytes(), ParseOptions())


def test_the_ledger_id_reads_day_prompt_run_and_model() -> None:
    key = PromptRunKey.parse("2026-12-07:p12:r2:gpt-4o-mini")
    assert key == PromptRunKey(batch_day=DEC7, prompt_id=12, run_index=2, model="gpt-4o-mini")
    assert key.external_id == "2026-12-07:p12:r2:gpt-4o-mini"


@pytest.mark.parametrize(
    "model",
    [
        "gpt-4o-mini",
        "openai/gpt-4o-mini",
        "anthropic/claude-3.5-sonnet:beta",
        "ft:gpt-4o-mini:acme:brand-tone:9xYz",
    ],
)
def test_any_model_name_survives_the_trip_through_the_ledger_id(model: str) -> None:
    key = PromptRunKey(DEC7, 3, 1, model)
    assert PromptRunKey.parse(key.external_id) == key


@pytest.mark.parametrize(
    "external_id",
    [
        "0000000000000000",
        "",
        "2026-12-07:p12:r2",
        "2026-12-07:12:r2:gpt-4o-mini",
        "2026-12-07:p12:2:gpt-4o-mini",
        "2026-12-07:pX:r2:gpt-4o-mini",
        "2026-12-07:p12:rtwo:gpt-4o-mini",
        "2026-13-07:p12:r2:gpt-4o-mini",
        "<kickoff-1@example.org>",
    ],
)
def test_an_id_that_is_no_prompt_run_is_refused_naming_it(external_id: str) -> None:
    with pytest.raises(BadPromptRun) as raised:
        PromptRunKey.parse(external_id)
    assert repr(external_id) in str(raised.value)


def test_a_fetched_run_parses_back_to_the_same_run() -> None:
    run = a_run(model="openai/gpt-4o-mini", text="Café au lait: Nespresso ou Lavazza ?")
    record = parsed(run)
    assert record == run.to_json()
    assert PromptRun.from_json(record) == run
    assert record["text"] == "Café au lait: Nespresso ou Lavazza ?"
    assert json.loads(run.to_bytes())["batch_day"] == "2026-12-07"


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "not a prompt run"),
        (b"<html>502 Bad Gateway</html>", "not a prompt run"),
        (b"\xff\xfe\x00", "not a prompt run"),
        (b"[]", "not a prompt run"),
        (b'{"prompt_id": 12}', "batch_day"),
        (a_run(text=" \n\t").to_bytes(), "text is empty"),
        (a_run(model="").to_bytes(), "names no model"),
        (a_run().to_bytes().replace(b'"2026-12-07"', b'"yesterday"'), "not a prompt run"),
    ],
    ids=[
        "empty",
        "html",
        "not-utf8",
        "json-list",
        "missing-fields",
        "blank-text",
        "no-model",
        "bad-day",
    ],
)
def test_bytes_that_are_no_usable_run_are_unparseable_with_a_reason(data: bytes, says: str) -> None:
    with pytest.raises(UnparseableItem, match=says):
        KIND.parse(data, ParseOptions())


def test_the_model_is_asked_the_prompt_text_by_the_model_the_run_names() -> None:
    asked = KIND.task_input(parsed(a_run(model="gpt-4.1-mini")), TASK)
    assert (asked.task, asked.text, asked.model) == ("prompt_answer", CRM, "gpt-4.1-mini")


def test_each_run_is_its_own_question_and_asking_one_again_reuses_its_answer() -> None:
    def key_of(run: PromptRun) -> str:
        return KIND.task_input(parsed(run), TASK).content_hash

    run = a_run()
    others = [
        a_run(run_index=3),
        a_run(model="gpt-4o"),
        a_run(batch_day=DEC7 + dt.timedelta(days=1)),
        a_run(prompt_id=13),
        a_run(text=CRM + " Answer in one line."),
    ]
    keys = [key_of(run), *(key_of(other) for other in others)]
    assert len(set(keys)) == len(keys), "two different runs would share one cached answer"
    assert key_of(a_run()) == key_of(run)
    assert key_of(a_run(prompt_name="renamed")) == key_of(run)


def test_a_parsed_record_missing_its_text_gives_no_input() -> None:
    record = parsed(a_run())
    del record["text"]
    with pytest.raises(UnparseableItem):
        KIND.task_input(record, TASK)


def test_a_prompt_disabled_after_its_day_was_listed_is_skipped_saying_when(
    sqlite_url: str,
) -> None:
    with session_scope(sqlite_url) as session:
        watch = prompt_set(session, "brand-watch", create=True)
        add_prompt(session, watch, PromptSpec(text=CRM, models=("gpt-4o-mini",), name="crm"))
        wiki = PromptSpec(text="Notion or Confluence?", models=("gpt-4o",))
        wiki_id = add_prompt(session, watch, wiki).id
        set_id = watch.id
    source = build_source(
        provider="prompts", account="brand-watch", database_url=sqlite_url, integration_id=set_id
    )
    refs = [ref for page in source.enumerate(Window.for_day(DEC7), None) for ref in page.items]
    with session_scope(sqlite_url) as session:
        when = dt.datetime(2026, 12, 7, 6, 15, tzinfo=dt.UTC)
        disable_prompt(session, find_prompt(session, "crm"), now=when)
    crm, other = list(source.fetch(refs))
    assert isinstance(crm, FetchError)
    assert (crm.skip, crm.retryable) == (True, False)
    assert (
        crm.reason == "prompt 'crm' was disabled on 2026-12-07 06:15 UTC before this run asked it"
    )
    assert isinstance(other, RawItem)
    assert KIND.parse(other.data, ParseOptions())["text"] == "Notion or Confluence?"
    next_day = source.enumerate(Window.for_day(DEC7 + dt.timedelta(days=1)), None)
    listed = [PromptRunKey.parse(ref.external_id) for page in next_day for ref in page.items]
    assert [(key.prompt_id, key.model) for key in listed] == [(wiki_id, "gpt-4o")]


ANSWER = "For a small agency, Acme is the pick; ACME's rival Globex costs more. Acme wins."


@pytest.mark.parametrize(
    ("name", "claimed", "found"),
    [
        ("Acme", 70, 70),
        ("Acme", 5, 20),
        ("Acme", None, 20),
        ("Acme", -1, 20),
        ("Acme", 10_000, 20),
        ("globex", None, 51),
        ("ACME", None, 38),
        ("Initech", 3, None),
        ("", 0, None),
    ],
    ids=[
        "claimed-offset-right",
        "claimed-offset-wrong",
        "no-claim",
        "claimed-minus-one",
        "claimed-past-the-end",
        "other-case",
        "exact-case-first",
        "absent",
        "empty-name",
    ],
)
def test_a_mention_is_placed_where_the_answer_writes_it(
    name: str, claimed: int | None, found: int | None
) -> None:
    position = locate(ANSWER, name, claimed)
    assert position == found
    if position is not None:
        assert ANSWER[position : position + len(name)].lower() == name.lower()


def test_a_case_insensitive_match_after_a_dotted_capital_i_points_at_the_name() -> None:
    answer = "In İzmir, agencies pick acme."
    assert locate(answer, "Acme", None) == answer.index("acme")


def test_listed_entities_become_mentions_in_the_order_listed() -> None:
    answer = (
        "1. **HubSpot** suits agencies.\n2. Acme, Inc. is cheaper.\n3. [Zoho](https://zoho.com)"
    )
    listed: list[dict[str, Any]] = [
        {"name": "**HubSpot**", "type": "product", "normalized": "HubSpot", "position": 3},
        {"name": "", "type": "company", "normalized": "", "position": -1},
        {"name": "Acme, Inc.", "type": "company", "normalized": "Acme", "position": 31},
        {"name": "***", "type": "other", "normalized": "", "position": 0},
        {"name": "[Zoho](https://zoho.com)", "normalized": "Zoho", "position": "60"},
        {"name": "Initech LLC", "type": "company", "normalized": "Initech", "position": 99},
    ]
    assert located_mentions(answer, listed) == [
        LocatedMention(0, "HubSpot", "product", "hubspot", answer.index("HubSpot")),
        LocatedMention(1, "Acme, Inc.", "company", "acme", answer.index("Acme, Inc.")),
        LocatedMention(2, "Zoho", "other", "zoho", answer.index("Zoho")),
        LocatedMention(3, "Initech LLC", "company", "initech", None),
    ]


def test_written_forms_of_one_company_count_as_one_entity() -> None:
    answer = "Acme Corp. leads; Acme's app and the ACME, Inc. API follow."
    names = ["Acme Corp.", "Acme's", "ACME, Inc.", "**Acme**"]
    mentions = located_mentions(answer, [{"name": n, "type": "company"} for n in names])
    assert {m.entity for m in mentions} == {"acme"}
    assert [m.position for m in mentions] == [0, 18, 37, 0]
