"""What the walk over a message's MIME tree gathers, and how its body texts are rendered."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest_pipeline.domain import ParsedAttachment

# The line that introduces each forwarded message appended to the body text.
FORWARD_MARKER = "---------- Forwarded message ----------"


@dataclass
class WalkState:
    """What the walk over one top-level message has collected so far.

    ``cap`` is the attachment size limit in bytes; ``defects`` are short notes on anything
    that was read a simpler way or skipped.
    """

    cap: int
    defects: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    forwarded_subjects: list[str] = field(default_factory=list)
    html_present: bool = False
    leaves: int = 0  # leaf parts seen, numbering generated filenames ("part-3.jpg")


@dataclass
class BodyTexts:
    """Body texts of one message level: the top message, or one forwarded message in it."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)  # already converted to text
    tnef: list[str] = field(default_factory=list)  # bodies carried inside winmail.dat
    forwarded: list[str] = field(default_factory=list)  # rendered forwarded messages

    def render(self) -> str:
        """Plain parts, else HTML parts, else TNEF bodies; then each forwarded message."""
        main = _join(self.plain) or _join(self.html) or _join(self.tnef)
        blocks = [main] if main else []
        blocks += [f"{FORWARD_MARKER}\n{text}" for text in self.forwarded]
        return "\n\n".join(blocks)


def _join(texts: list[str]) -> str:
    return "\n\n".join(t.strip() for t in texts if t.strip())
