"""One item of the prompt-runs stream: a prompt asked of one model, the n-th time on one
batch day; its ledger id, and the record fetch stores and parse checks."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any

from ingest_pipeline.domain import sha256_hex


class BadPromptRun(ValueError):
    """A ledger id or a stored record that is not a prompt run; the message says why."""


@dataclass(frozen=True)
class PromptRunKey:
    """The seed's unique key of a prompt job: batch day, prompt, run index and model.

    As a ledger external id: ``2026-12-07:p12:r2:gpt-4o-mini`` (the model last, so a
    registry name may hold any character)."""

    batch_day: dt.date
    prompt_id: int
    run_index: int
    model: str

    @property
    def external_id(self) -> str:
        return f"{self.batch_day.isoformat()}:p{self.prompt_id}:r{self.run_index}:{self.model}"

    @classmethod
    def parse(cls, external_id: str) -> PromptRunKey:
        parts = external_id.split(":", 3)
        if (
            len(parts) != 4
            or not parts[1].startswith("p")
            or not parts[2].startswith("r")
            or not parts[3]
        ):
            raise BadPromptRun(f"{external_id!r} is not a prompt run id (DAY:pID:rN:MODEL)")
        try:
            return cls(
                batch_day=dt.date.fromisoformat(parts[0]),
                prompt_id=int(parts[1][1:]),
                run_index=int(parts[2][1:]),
                model=parts[3],
            )
        except ValueError as exc:
            raise BadPromptRun(f"{external_id!r} is not a prompt run id: {exc}") from exc


@dataclass(frozen=True)
class PromptRun:
    """What one run asks: the key and the prompt's text and name as fetched."""

    key: PromptRunKey
    prompt_name: str
    text: str

    def to_bytes(self) -> bytes:
        body = {
            "batch_day": self.key.batch_day.isoformat(),
            "prompt_id": self.key.prompt_id,
            "run_index": self.key.run_index,
            "model": self.key.model,
            "prompt_name": self.prompt_name,
            "text": self.text,
        }
        return json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PromptRun:
        try:
            key = PromptRunKey(
                batch_day=dt.date.fromisoformat(str(data["batch_day"])),
                prompt_id=int(data["prompt_id"]),
                run_index=int(data["run_index"]),
                model=str(data["model"]),
            )
            text, name = str(data["text"]), str(data["prompt_name"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BadPromptRun(f"not a prompt run record: {exc!r}") from exc
        if not text.strip():
            raise BadPromptRun("the prompt's text is empty")
        if not key.model:
            raise BadPromptRun("the prompt run names no model")
        return cls(key=key, prompt_name=name, text=text)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self.key), "batch_day": self.key.batch_day.isoformat()} | {
            "prompt_name": self.prompt_name,
            "text": self.text,
        }

    @property
    def input_hash(self) -> str:
        """The extraction cache's key for this run: the text *and* the run's key, so each
        run is asked once (three runs a day are three answers), and a re-run reuses it."""
        return sha256_hex(f"{self.key.external_id}\n{self.text}".encode())
