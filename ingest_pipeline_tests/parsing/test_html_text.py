"""html_to_text: visible text only, block structure kept as line breaks."""

from __future__ import annotations

import pytest

from ingest_pipeline.parsing.html_text import html_to_text, strip_zero_width


def test_paragraphs_become_blank_line_separated_blocks() -> None:
    assert html_to_text("<p>One</p><p>Two</p>") == "One\n\nTwo"


def test_divs_list_items_and_breaks_become_lines() -> None:
    html = "<div>a</div><div>b<br>c</div><ul><li>first</li><li>second</li></ul>"
    assert html_to_text(html) == "a\nb\nc\n\nfirst\nsecond"


def test_table_rows_are_lines_and_cells_stay_apart() -> None:
    html = "<table><tr><td>Total</td><td>99.50</td></tr><tr><td>VAT</td><td>19%</td></tr></table>"
    assert html_to_text(html) == "Total 99.50\nVAT 19%"


def test_source_whitespace_is_collapsed_like_a_browser_does() -> None:
    assert html_to_text("<p>Hello,\n     dear\tfriend</p>") == "Hello, dear friend"


def test_runs_of_blank_lines_collapse_to_one() -> None:
    html = "top<br><br><br><br><br>bottom<p></p><p></p><div></div><p>end</p>"
    text = html_to_text(html)
    assert "\n\n\n" not in text
    assert text.startswith("top\n\nbottom") and text.endswith("end")


@pytest.mark.parametrize("tag", ["script", "style", "title", "template", "noscript"])
def test_non_rendered_elements_are_dropped(tag: str) -> None:
    html = f"<html><head></head><body><{tag}>SECRET</{tag}><p>shown</p></body></html>"
    assert html_to_text(html) == "shown"


def test_head_and_comments_are_dropped() -> None:
    html = "<html><head><meta name='x'><title>T</title></head><body><!-- note -->hi</body></html>"
    assert html_to_text(html) == "hi"


@pytest.mark.parametrize(
    "hidden",
    [
        "<span hidden>SECRET</span>",
        '<div aria-hidden="true">SECRET</div>',
        '<span style="display:none">SECRET</span>',
        '<span style="color: red; DISPLAY: none !important">SECRET</span>',
        '<div style="visibility:hidden">SECRET</div>',
        '<span style="font-size:0px">SECRET</span>',
        '<span style="font-size: 0">SECRET</span>',
        '<div style="opacity:0">SECRET</div>',
        '<div style="max-height:0; overflow:hidden">SECRET</div>',
        '<div style="mso-hide:all">SECRET</div>',
    ],
)
def test_hidden_elements_are_dropped(hidden: str) -> None:
    text = html_to_text(f"<div>before {hidden} after</div>")
    assert "SECRET" not in text
    assert text == "before after"


@pytest.mark.parametrize(
    "style", ["font-size:0.9em", "opacity:0.5", "max-height:0", "display:block"]
)
def test_styles_that_do_not_hide_keep_their_text(style: str) -> None:
    assert html_to_text(f'<span style="{style}">visible</span>') == "visible"


def test_zero_width_characters_and_soft_hyphens_are_removed() -> None:
    html = "<p>Pay\u200bPal\u200c \u200dac\u2060count\ufeff ver&shy;ify &#8203;now</p>"
    assert html_to_text(html) == "PayPal account verify now"


def test_strip_zero_width_leaves_other_text_alone() -> None:
    assert strip_zero_width("a\u200bb\u00adc d\u00e9") == "abc d\u00e9"


def test_non_breaking_spaces_become_spaces() -> None:
    assert html_to_text("a&nbsp;&nbsp;b") == "a b"


def test_plain_text_and_broken_markup_do_not_raise() -> None:
    assert html_to_text("") == ""
    assert html_to_text("just text") == "just text"
    assert html_to_text("<div><p>unclosed <b>bold") == "unclosed bold"
