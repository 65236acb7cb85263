"""Entity mentions from LLM answers count under one key however a model writes the name:
markup, quotes, punctuation, case, "&", legal suffixes and known aliases make no difference,
and a key normalises to itself."""

from __future__ import annotations

import pytest

from ingest_pipeline.streams.prompt_runs.entity_names import (
    BUILTIN_ALIASES,
    display_name,
    normalize_entity,
)

MARKUP_AND_QUOTES = [
    ("**HubSpot**", "hubspot"),
    ("__HubSpot__", "hubspot"),
    ("*Notion*", "notion"),
    ("***Stripe***", "stripe"),
    ("`Postman`", "postman"),
    ("~~Trello~~", "trello"),
    ("[Notion](https://notion.so)", "notion"),
    ("[**Notion**](https://en.wikipedia.org/wiki/Notion_(app))", "notion"),
    ("[Pipedrive][3]", "pipedrive"),
    ('"Zoho CRM"', "zoho crm"),
    ("'Zoho CRM'", "zoho crm"),
    ("“Zoho CRM”", "zoho crm"),
    ("«Zoho CRM»", "zoho crm"),
    ('"**Zoho CRM**"', "zoho crm"),
    ("HubSpot™", "hubspot"),
    ("Ｈｕｂｓｐｏｔ", "hubspot"),
    ("Hub\u200bSpot", "hubspot"),
]
PUNCTUATION_ARTICLE_AND_POSSESSIVE = [
    ("Salesforce.", "salesforce"),
    ("Salesforce,", "salesforce"),
    ("Salesforce:", "salesforce"),
    ("Salesforce!?", "salesforce"),
    ("Salesforce…", "salesforce"),
    ("The Home Depot", "home depot"),
    ("THE HOME DEPOT", "home depot"),
    ("the Home Depot", "home depot"),
    ("Theranos", "theranos"),
    ("Salesforce's", "salesforce"),
    ("Salesforce’s", "salesforce"),
    ("SALESFORCE'S", "salesforce"),
    ("“Salesforce’s”.", "salesforce"),
    ("L’Oréal", "l'oréal"),
]
CASE_SPACES_AND_JOINERS = [
    ("  Zoho   CRM ", "zoho crm"),
    ("Zoho\tCRM\n", "zoho crm"),
    ("Procter & Gamble", "procter and gamble"),
    ("Procter&Gamble", "procter and gamble"),
    ("procter and gamble", "procter and gamble"),
    ("AT&T", "at and t"),
    ("Coca-Cola", "coca cola"),
    ("coca_cola", "coca cola"),
    ("Coca‑Cola", "coca cola"),
    ("GPT-4", "gpt 4"),
    ("2020-21", "2020-21"),
    ("snake_case_name", "snake case name"),
    ("I.B.M.", "ibm"),
    ("I.B.M", "ibm"),
    ("U.S. Bank", "us bank"),
    ("J.P. Morgan", "jp morgan"),
    ("e.l.f. Cosmetics", "elf cosmetics"),
    ("Node.js", "node.js"),
]
LEGAL_SUFFIXES = [
    ("Apple Inc.", "apple"),
    ("Apple, Inc.", "apple"),
    ("Apple,Inc", "apple"),
    ("Acme Incorporated", "acme"),
    ("Acme Corp.", "acme"),
    ("Acme Corporation", "acme"),
    ("Acme Co.", "acme"),
    ("Acme Company", "acme"),
    ("Acme Ltd", "acme"),
    ("Acme Limited", "acme"),
    ("Acme LLC", "acme"),
    ("Acme, L.L.C.", "acme"),
    ("Acme LLP", "acme"),
    ("Acme PLC", "acme"),
    ("Robert Bosch GmbH", "robert bosch"),
    ("Siemens AG", "siemens"),
    ("Nestlé SA", "nestlé"),
    ("Nestlé S.A.", "nestlé"),
    ("Acme SAS", "acme"),
    ("Acme SARL", "acme"),
    ("Heineken BV", "heineken"),
    ("Heineken B.V.", "heineken"),
    ("Philips NV", "philips"),
    ("Philips N.V.", "philips"),
    ("Spotify AB", "spotify"),
    ("Equinor ASA", "equinor"),
    ("Rovio Oy", "rovio"),
    ("Nokia Oyj", "nokia"),
    ("Ferrari S.p.A.", "ferrari"),
    ("Ferrari SpA", "ferrari"),
    ("Sony KK", "sony"),
    ("Sony K.K.", "sony"),
    ("Atlassian Pty Ltd", "atlassian"),
    ("Atlassian Pty. Ltd.", "atlassian"),
    ("Tata Consultancy Services Pvt. Ltd.", "tata consultancy services"),
    ("Infosys Private Limited", "infosys"),
    ("Sears Holdings", "sears"),
    ("Acme Holdings, Inc.", "acme"),
    ("Foo Co., Ltd.", "foo"),
    ("Serenity Day Spa", "serenity day spa"),
    ("Incorporated Television", "incorporated television"),
]
WHOLE_NAME_SUFFIXES_AND_EMPTY = [
    ("Inc.", "inc"),
    ("Inc", "inc"),
    ("Holdings", "holdings"),
    ("Company", "company"),
    ("Pty Ltd", "pty ltd"),
    ("Co Inc", "co"),
    ("The Company", "company"),
    ("", ""),
    ("   ", ""),
    ("**  **", ""),
    ('""', ""),
    ("!!!", ""),
]
BUILTIN_ALIAS_USES = [
    ("MSFT", "microsoft"),
    ("Microsoft Corporation", "microsoft"),
    ("AWS", "amazon web services"),
    ("Amazon.com, Inc.", "amazon"),
    ("GCP", "google cloud"),
    ("Google Cloud Platform", "google cloud"),
    ("Google LLC", "google"),
    ("Alphabet Inc.", "alphabet"),
    ("Meta Platforms, Inc.", "meta"),
    ("Facebook", "meta"),
    ("X Corp.", "x"),
    ("Twitter", "x"),
    ("P&G", "procter and gamble"),
    ("Hewlett-Packard Enterprise", "hewlett packard enterprise"),
    ("Postgres", "postgresql"),
]
ALL_CASES = [
    *MARKUP_AND_QUOTES,
    *PUNCTUATION_ARTICLE_AND_POSSESSIVE,
    *CASE_SPACES_AND_JOINERS,
    *LEGAL_SUFFIXES,
    *WHOLE_NAME_SUFFIXES_AND_EMPTY,
    *BUILTIN_ALIAS_USES,
]


@pytest.mark.parametrize(("name", "key"), MARKUP_AND_QUOTES)
def test_markdown_quotes_and_trademark_signs_are_not_part_of_the_key(name: str, key: str) -> None:
    assert normalize_entity(name) == key


@pytest.mark.parametrize(("name", "key"), PUNCTUATION_ARTICLE_AND_POSSESSIVE)
def test_trailing_punctuation_a_leading_the_and_a_possessive_are_dropped(
    name: str, key: str
) -> None:
    assert normalize_entity(name) == key


@pytest.mark.parametrize(("name", "key"), CASE_SPACES_AND_JOINERS)
def test_case_spacing_ampersands_hyphens_and_acronym_dots_make_no_difference(
    name: str, key: str
) -> None:
    assert normalize_entity(name) == key


@pytest.mark.parametrize(("name", "key"), LEGAL_SUFFIXES)
def test_legal_suffixes_at_the_end_are_dropped(name: str, key: str) -> None:
    assert normalize_entity(name) == key


@pytest.mark.parametrize(("name", "key"), WHOLE_NAME_SUFFIXES_AND_EMPTY)
def test_a_suffix_that_is_the_whole_name_stays_and_nothing_left_is_empty(
    name: str, key: str
) -> None:
    assert normalize_entity(name) == key


@pytest.mark.parametrize(("name", "key"), BUILTIN_ALIAS_USES)
def test_built_in_aliases_map_renames_and_abbreviations_to_one_key(name: str, key: str) -> None:
    assert normalize_entity(name) == key


@pytest.mark.parametrize("name", [name for name, _ in ALL_CASES])
def test_a_key_normalises_to_itself(name: str) -> None:
    key = normalize_entity(name)

    assert normalize_entity(key) == key


@pytest.mark.parametrize("name", [name for name, _ in ALL_CASES])
def test_the_display_name_has_the_same_key_as_the_name(name: str) -> None:
    assert normalize_entity(display_name(name)) == normalize_entity(name)


def test_every_way_of_writing_apple_is_one_key() -> None:
    spellings = ["Apple Inc.", "apple", "APPLE, INC.", "**Apple**", "“Apple”", "Apple's"]

    assert {normalize_entity(spelling) for spelling in spellings} == {"apple"}


def test_procter_and_gamble_with_an_ampersand_and_a_suffix_is_the_plain_name() -> None:
    assert normalize_entity("Procter & Gamble Co.") == normalize_entity("procter and gamble")


def test_the_home_depot_loses_its_article_and_its_suffix() -> None:
    assert normalize_entity("The Home Depot, Inc.") == "home depot"


def test_the_built_in_aliases_are_written_as_the_keys_they_match() -> None:
    for variant, key in BUILTIN_ALIASES.items():
        assert normalize_entity(variant) == key
        assert normalize_entity(key) == key
        assert key not in BUILTIN_ALIASES


def test_caller_aliases_override_the_built_in_ones() -> None:
    assert normalize_entity("Twitter", aliases={"twitter": "twitter"}) == "twitter"
    assert normalize_entity("Facebook", aliases={"Facebook": "Facebook, Inc."}) == "facebook"
    assert normalize_entity("Facebook") == "meta"


def test_caller_aliases_extend_the_built_in_ones_and_are_normalised_like_names() -> None:
    aliases = {"**Sales Force**": "Salesforce, Inc.", "HubSpot CRM": "HubSpot"}

    assert normalize_entity("sales force", aliases=aliases) == "salesforce"
    assert normalize_entity("The HubSpot CRM.", aliases=aliases) == "hubspot"
    assert normalize_entity("MSFT", aliases=aliases) == "microsoft"


def test_an_alias_of_an_alias_ends_at_the_last_key() -> None:
    aliases = {"fb": "Facebook"}

    assert normalize_entity("FB", aliases=aliases) == "meta"
    assert normalize_entity(normalize_entity("FB", aliases=aliases), aliases=aliases) == "meta"


def test_aliases_that_loop_are_a_clear_error() -> None:
    with pytest.raises(ValueError, match="entity aliases form a loop: meta → facebook → meta"):
        normalize_entity("Meta", aliases={"Meta": "Facebook"})


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("**HubSpot**", "HubSpot"),
        ("[Notion](https://notion.so)", "Notion"),
        ("  “Zoho   CRM”  ", "Zoho CRM"),
        ("**HubSpot**:", "HubSpot"),
        ("HubSpot®,", "HubSpot"),
        ("Apple Inc.", "Apple Inc."),
        ("Yahoo!", "Yahoo!"),
        ("The Home Depot", "The Home Depot"),
        ("I.B.M.", "I.B.M."),
        ("Coca-Cola", "Coca-Cola"),
        ("   ", ""),
    ],
)
def test_the_display_name_keeps_case_and_loses_only_markup(name: str, shown: str) -> None:
    assert display_name(name) == shown
