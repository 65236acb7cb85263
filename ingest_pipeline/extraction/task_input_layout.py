"""Reading back the layout of an extraction task's input text (built in ``tasks.py``).

An input starts with ``From: name <email>`` and ``Subject: ...`` lines, then the body; an
application input may follow the body with ``--- attachment: <filename> ---`` sections.
"""

from __future__ import annotations

import re

_ATTACHMENT_RE = re.compile(r"^--- attachment: (.+?) ---[ \t]*$", re.MULTILINE)


def parse_from_line(text: str) -> tuple[str, str, str, str]:
    """Split an input into (sender display name, sender email, subject, rest of the text).

    Inputs start with ``From: name <email>`` and ``Subject: ...`` lines (see ``tasks.py``);
    text that does not is treated as all body.
    """
    lines = text.split("\n")
    name = email = subject = ""
    index = 0
    if lines and lines[0].startswith("From:"):
        sender = lines[0][len("From:") :].strip()
        match = re.match(r"^(.*?)\s*<([^<>]*)>\s*$", sender)
        name, email = (match.group(1), match.group(2)) if match else ("", sender)
        index = 1
    if len(lines) > index and lines[index].startswith("Subject:"):
        subject = lines[index][len("Subject:") :].strip()
        index += 1
    return name.strip().strip('"'), email.strip().lower(), subject, "\n".join(lines[index:])


def split_application(rest: str) -> tuple[str, list[tuple[str, str]]]:
    """The body and the (filename, text) attachment sections of an application input."""
    parts = _ATTACHMENT_RE.split(rest)
    sections = [(parts[i].strip(), parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]
    return parts[0], sections
