"""HTML mail bodies to the plain text a reader would see.

Mail HTML hides text on purpose (preheaders, tracking blocks, spam padding), so hidden
elements are dropped, not just tags. The result keeps paragraph and row structure as line
breaks and has no zero-width characters.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment, Declaration, Doctype, ProcessingInstruction, Tag
from bs4.element import NavigableString

# Elements whose content is never shown as text.
_DROPPED_TAGS = ("script", "style", "head", "title", "template", "noscript", "iframe", "object")
# Elements that start a new line before and after their content.
_BLOCK_TAGS = (
    *("div", "li", "tr", "dt", "dd", "section", "article", "header", "footer", "hr"),
    *("address", "center", "form", "fieldset", "figure", "figcaption", "body", "caption"),
)
# Elements set off from their neighbours by a blank line.
_PARAGRAPH_TAGS = (
    *("p", "table", "ul", "ol", "dl", "blockquote", "pre"),
    *("h1", "h2", "h3", "h4", "h5", "h6"),
)
# Table cells are separated from their neighbours on the same line.
_CELL_TAGS = ("td", "th")

# Characters that render as nothing: zero-width space/joiners, word joiner, BOM, soft hyphen.
ZERO_WIDTH_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_ZERO_WIDTH_TABLE = {ord(c): None for c in ZERO_WIDTH_CHARS}

_HIDDEN_STYLE = re.compile(
    r"(?:^|;)\s*(?:"
    r"display\s*:\s*none"
    r"|visibility\s*:\s*hidden"
    r"|mso-hide\s*:\s*all"
    r"|font-size\s*:\s*0+(?:\.0+)?(?:px|pt|em|rem|%)?"
    r"|opacity\s*:\s*0+(?:\.0+)?"
    r")\s*(?:!important\s*)?(?:;|$)",
    re.IGNORECASE,
)
_ZERO_HEIGHT = re.compile(r"(?:^|;)\s*(?:max-)?height\s*:\s*0+(?:px|pt|em|%)?\s*(?:;|$)", re.I)
_OVERFLOW_HIDDEN = re.compile(r"(?:^|;)\s*overflow\s*:\s*hidden", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")
_BLANK_RUNS = re.compile(r"\n{3,}")
# Placeholders for block boundaries; adjacent boundaries merge into one break.
_LINE_MARK = "\x00"
_PARAGRAPH_MARK = "\x01"
_BREAK_RUN = re.compile(r"[ \n\x00\x01]*[\x00\x01][ \n\x00\x01]*")


def _resolve_breaks(match: re.Match[str]) -> str:
    """One run of boundaries and newlines: a blank line for paragraphs, else line breaks."""
    run = match.group(0)
    wanted = 2 if _PARAGRAPH_MARK in run else 1
    return "\n" * max(wanted, run.count("\n"))


def strip_zero_width(text: str) -> str:
    """``text`` without the invisible characters listed in ``ZERO_WIDTH_CHARS``."""
    return text.translate(_ZERO_WIDTH_TABLE)


def _is_hidden(tag: Tag) -> bool:
    """True when the element's attributes or inline style keep it from being displayed."""
    attrs = tag.attrs or {}
    if "hidden" in attrs:
        return True
    if str(attrs.get("aria-hidden", "")).strip().lower() == "true":
        return True
    style = attrs.get("style")
    if not style:
        return False
    style = str(style)
    if _HIDDEN_STYLE.search(style):
        return True
    return bool(_ZERO_HEIGHT.search(style) and _OVERFLOW_HIDDEN.search(style))


def html_to_text(html: str) -> str:
    """The visible text of ``html``: one line per block, at most one blank line in a row.

    Scripts, styles, comments and hidden elements are removed; ``<br>`` and block elements
    (``p``, ``div``, ``li``, ``tr`` ...) become line breaks; table cells on one row are
    separated by a space; zero-width characters are removed. Never raises on bad markup.
    """
    if not html or not html.strip():
        return ""
    html = html.replace(_LINE_MARK, "").replace(_PARAGRAPH_MARK, "")
    soup = BeautifulSoup(html, "lxml")
    for element in soup.find_all(
        string=lambda s: isinstance(s, Comment | Declaration | Doctype | ProcessingInstruction)
    ):
        element.extract()
    for tag in soup.find_all(_DROPPED_TAGS):
        tag.decompose()
    for tag in soup.find_all(_is_hidden):
        if not tag.decomposed:
            tag.decompose()

    # Collapse source whitespace (HTML renders it as one space), except inside <pre>.
    for string in soup.find_all(string=True):
        if not isinstance(string, NavigableString) or string.find_parent("pre"):
            continue
        collapsed = _SPACES.sub(" ", str(string))
        if collapsed != string:
            string.replace_with(collapsed)

    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before(_LINE_MARK)
        tag.insert_after(_LINE_MARK)
    for tag in soup.find_all(_PARAGRAPH_TAGS):
        tag.insert_before(_PARAGRAPH_MARK)
        tag.insert_after(_PARAGRAPH_MARK)
    for tag in soup.find_all(_CELL_TAGS):
        tag.insert_after(" ")

    text = strip_zero_width(_BREAK_RUN.sub(_resolve_breaks, soup.get_text()))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()
