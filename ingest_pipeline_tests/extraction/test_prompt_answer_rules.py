"""The offline answer to a prompt: the same every time, honest about being offline, and
listing the names the prompt holds where the answer writes them, in the task's schema."""

from __future__ import annotations

import pytest

from ingest_pipeline.domain import ExtractionInput
from ingest_pipeline.extraction.offline_extractor import OfflineExtractor
from ingest_pipeline.extraction.prompt_answer_rules import OFFLINE_NOTE, answer_prompt
from ingest_pipeline.extraction.tasks import PromptAnswer, get_task

BRAND_PROMPTS = {
    "What are the best CRM tools like HubSpot, Salesforce and Zoho?": {
        "HubSpot",
        "Salesforce",
        "Zoho",
    },
    "Compare Notion vs Confluence for a team wiki.": {"Notion", "Confluence"},
    "Which is better for startups: Stripe or PayPal?": {"Stripe", "PayPal"},
    "Recommend running shoes such as Nike Pegasus or Brooks Ghost.": {
        "Nike Pegasus",
        "Brooks Ghost",
    },
    "The Bank of America app vs Chase: which is easier?": {"Bank of America", "Chase"},
    "Is GPT-4 better than Gemini for coding?": {"GPT-4", "Gemini"},
    "Name the best alternatives to Microsoft Teams.": {"Microsoft Teams"},
}
NO_NAMES = (
    "what is a good way to learn cooking?",
    "Best laptops for students in 2026?",
    "List the top cloud providers.",
    "How do I choose a CRM for my agency?",
)
QUESTION_WORDS = {"What", "Which", "Compare", "Recommend", "Name", "The", "Is", "Best", "List"}


def names_in(prompt: str) -> list[str]:
    return [entity["name"] for entity in answer_prompt(prompt)["entities"]]


@pytest.mark.parametrize("prompt", [*BRAND_PROMPTS, *NO_NAMES])
def test_the_same_prompt_gets_the_same_answer_every_time(prompt: str) -> None:
    task = get_task("prompt_answer")
    asked = ExtractionInput.of(task=task.name, text=prompt, model="gpt-4o-mini")
    first, second = OfflineExtractor().extract(task, asked), OfflineExtractor().extract(task, asked)
    assert first == second
    assert first.result == answer_prompt(prompt)
    assert first.result["answer"].startswith(OFFLINE_NOTE)


@pytest.mark.parametrize(("prompt", "brands"), BRAND_PROMPTS.items())
def test_the_names_a_brand_prompt_holds_are_its_entities(prompt: str, brands: set[str]) -> None:
    names = names_in(prompt)
    assert brands <= set(names), f"{sorted(brands - set(names))} not found in {prompt!r}"
    assert not QUESTION_WORDS & set(names), names
    assert len(names) == len(set(names)), names


def test_a_name_the_prompt_repeats_is_listed_once() -> None:
    assert names_in("HubSpot or Pipedrive? I hear HubSpot is easier.") == ["HubSpot", "Pipedrive"]


@pytest.mark.parametrize("prompt", NO_NAMES)
def test_a_prompt_without_names_gets_an_answer_that_says_so(prompt: str) -> None:
    result = answer_prompt(prompt)
    assert result["entities"] == []
    assert result["answer"] == f"{OFFLINE_NOTE} The prompt names no entity."


@pytest.mark.parametrize("prompt", BRAND_PROMPTS)
def test_each_entity_position_points_at_its_name_in_the_answers_list(prompt: str) -> None:
    result = answer_prompt(prompt)
    answer = result["answer"]
    listed_from = answer.index("The prompt names: ") + len("The prompt names: ")
    for entity in result["entities"]:
        at = entity["position"]
        assert answer[at : at + len(entity["name"])] == entity["name"], entity
        assert at >= listed_from, f"{entity['name']} is placed inside the offline note"


def test_a_one_letter_brand_is_an_entity_too() -> None:
    assert names_in("Should we post on X or on Threads?") == ["X", "Threads"]


def test_a_one_letter_brand_is_placed_in_the_list_not_in_the_note() -> None:
    result = answer_prompt("Should we post on X or on Threads?")
    positions = {e["name"]: e["position"] for e in result["entities"]}
    assert positions["X"] > result["answer"].index("The prompt names: ")


def test_a_short_brand_after_a_question_word_is_kept() -> None:
    assert names_in("Is Box better than Dropbox for a law firm?") == ["Box", "Dropbox"]


def test_a_legal_suffix_after_a_comma_is_no_entity_of_its_own() -> None:
    names = names_in("Is Salesforce, Inc. better than Zoho Corp for a bank?")
    assert "Inc" not in names
    assert "Zoho Corp" in names


@pytest.mark.parametrize(
    "prompt",
    [*BRAND_PROMPTS, *NO_NAMES, "", "Acme GmbH vs Initech LLC vs Hooli Inc.", "X" * 5_000],
)
def test_every_answer_validates_against_the_tasks_schema(prompt: str) -> None:
    answer = PromptAnswer.model_validate(answer_prompt(prompt))
    assert answer.answer.strip()
    assert all(entity.position >= 0 for entity in answer.entities)


def test_a_name_with_a_legal_form_is_a_company_and_one_with_a_version_a_product() -> None:
    types = {e["name"]: e["type"] for e in answer_prompt("Acme GmbH or GPT-4o?")["entities"]}
    assert types == {"Acme GmbH": "company", "GPT-4o": "product"}
