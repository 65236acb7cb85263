"""The stream kinds, by name. Adding a kind: a folder under `streams/` and one line here."""

from __future__ import annotations

import importlib
from functools import cache

from ingest_pipeline.streams.stream_kind import StreamKind

# name -> "module:class"; a kind is imported only when a run of that stream needs it.
_KINDS = {
    "mail": "ingest_pipeline.streams.mail.mail_kind:MailKind",
    "contacts": "ingest_pipeline.streams.contacts.contacts_kind:ContactsKind",
    "calendar_events": "ingest_pipeline.streams.calendar_events.calendar_kind:CalendarEventsKind",
    "prompt_runs": "ingest_pipeline.streams.prompt_runs.prompt_runs_kind:PromptRunsKind",
}
STREAM_NAMES = tuple(_KINDS)


@cache
def get_stream(name: str) -> StreamKind:
    """The kind called ``name``; a clear error listing the known ones otherwise."""
    if name not in _KINDS:
        raise ValueError(f"unknown stream {name!r}; known streams: {', '.join(STREAM_NAMES)}")
    module, cls = _KINDS[name].split(":")
    kind: StreamKind = getattr(importlib.import_module(module), cls)()
    return kind
