"""A prompt set as a source: a day's batch is every active prompt × model × run index.

The prompts live in the app database (`store.prompts`), so this source reads it; there is
no provider to call. Enumerate lists the set's active prompts as they are when the day is
enumerated (a prompt added later in the day joins that day's batch on the next run; one
disabled stays in the batches already listed). Fetch reads each prompt's current text; a
prompt disabled before its run was fetched ends ``skipped`` with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import sqlalchemy.exc

from ingest_pipeline.domain import FetchError, ItemRef, Page, RawItem, Window
from ingest_pipeline.sources.base import SourceError, SourceLimits, require_window
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.models import Integration
from ingest_pipeline.store.prompts import PROMPTS_PROVIDER, list_prompts, prompts_by_id
from ingest_pipeline.streams.prompt_runs.prompt_run import BadPromptRun, PromptRun, PromptRunKey

PAGE_SIZE = 1_000


class PromptSetSource:
    """The prompts of one prompt set (integration ``integration_id``, named ``name``)."""

    streams = frozenset({"prompt_runs"})
    limits = SourceLimits(fetch_batch_size=500, max_concurrency=1)

    def __init__(self, database_url: str, *, integration_id: int | None, name: str) -> None:
        self.database_url = database_url
        self.integration_id = integration_id
        self.name = name

    def _set_id(self) -> int:
        if self.integration_id is not None:
            return self.integration_id
        with session_scope(self.database_url) as session:
            row = session.query(Integration).filter(Integration.name == self.name).one_or_none()
            found = (row.id, row.provider) if row is not None else None
        if found is None or found[1] != PROMPTS_PROVIDER:
            raise SourceError(f"no prompt set named {self.name!r}")
        return found[0]

    def check(self) -> None:
        try:
            with session_scope(self.database_url) as session:
                row = session.get(Integration, self._set_id())
                provider = row.provider if row is not None else None
        except sqlalchemy.exc.SQLAlchemyError as exc:
            cause = getattr(exc, "orig", None) or exc
            lines = str(cause).strip().splitlines() or [""]
            raise SourceError(
                "the app database holding the prompts cannot be read "
                f"({type(cause).__name__}: {lines[0][:200]}); is it migrated? "
                "`ingest-pipeline db upgrade` migrates it"
            ) from exc
        if provider != PROMPTS_PROVIDER:
            raise SourceError(f"the prompt set {self.name!r} no longer exists")

    def enumerate(self, window: Window | None, cursor: str | None) -> Iterator[Page[ItemRef]]:
        received = require_window(window, what="a prompt set's day").start
        day = received.date()
        with session_scope(self.database_url) as session:
            prompts = list_prompts(session, integration_id=self._set_id(), active_only=True)
            asks = [
                PromptRunKey(day, prompt.id, run, model).external_id
                for prompt in prompts
                for model in prompt.models
                for run in range(1, prompt.runs_per_day + 1)
            ]
        start = int(cursor or 0)
        for offset in range(start, len(asks), PAGE_SIZE):
            page = [ItemRef(external_id=e, received_at=received) for e in asks[offset:][:PAGE_SIZE]]
            yield Page(items=page, cursor=str(offset + len(page)))

    def fetch(self, refs: Sequence[ItemRef]) -> Iterator[RawItem | FetchError]:
        keys: dict[str, PromptRunKey] = {}
        for ref in refs:
            try:
                keys[ref.external_id] = PromptRunKey.parse(ref.external_id)
            except BadPromptRun as exc:
                yield FetchError(ref.external_id, str(exc))
        with session_scope(self.database_url) as session:
            prompts = prompts_by_id(session, [k.prompt_id for k in keys.values()])
            found = {
                pid: (p.integration_id, p.active, p.name, p.text, p.disabled_at)
                for pid, p in prompts.items()
            }
        set_id = self._set_id()
        for external_id, key in keys.items():
            prompt = found.get(key.prompt_id)
            if prompt is None or prompt[0] != set_id:
                yield FetchError(external_id, f"prompt {key.prompt_id} is not in this prompt set")
                continue
            _, active, name, text, disabled_at = prompt
            if not active:
                when = f" on {disabled_at:%Y-%m-%d %H:%M} UTC" if disabled_at else ""
                yield FetchError(
                    external_id,
                    f"prompt {name!r} was disabled{when} before this run asked it",
                    skip=True,
                )
                continue
            run = PromptRun(key=key, prompt_name=name, text=text)
            yield RawItem(external_id=external_id, data=run.to_bytes())

    def sync_state(self) -> None:
        return None
