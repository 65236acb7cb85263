"""Where the shared real-world corpus keeps its messages (see ../shared/corpus/README.md)."""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
MIKEL = CORPUS / "mikel-mail" / "spec" / "fixtures" / "emails"
MIMEKIT = CORPUS / "mimekit" / "UnitTests" / "TestData"


def single_message_files() -> list[Path]:
    """Every file holding one message: all mikel-mail fixtures; mimekit's ``.eml``, ``.msg``
    and ``.txt`` files outside ``mbox/``, and only the ``.eml`` files under ``tnef/`` (the
    rest there are raw TNEF blobs and their extracted files)."""
    found = [p for p in sorted(MIKEL.rglob("*")) if p.is_file() and not p.name.startswith(".")]
    for path in sorted(p for p in MIMEKIT.rglob("*") if p.is_file()):
        area = path.relative_to(MIMEKIT).parts[0]
        if area == "mbox":
            continue
        if (area == "tnef" and path.suffix == ".eml") or (
            area != "tnef" and path.suffix in (".eml", ".msg", ".txt")
        ):
            found.append(path)
    return found


def mbox_files() -> list[Path]:
    """mimekit's mbox files (several messages each, with ``From `` separator lines)."""
    return sorted(p for p in (MIMEKIT / "mbox").iterdir() if p.is_file())
