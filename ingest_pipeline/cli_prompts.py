"""``ingest-pipeline prompts add|list|disable|status``: prompt sets and their daily batches.

A prompt set is a ``prompts`` integration (stream ``prompt_runs``): `prompts add --set NAME`
creates it with its first prompt and registers its Dagster partitions; ``ingest-pipeline
run --integration NAME --date D`` (or the midnight schedule, or a backfill) asks the day's
batch.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ingest_pipeline.cli_common import UsageError, migrated_url, parse_date
from ingest_pipeline.cli_tables import print_table
from ingest_pipeline.extraction.models_registry import UnknownModel, get_model, load_registry
from ingest_pipeline.settings import get_settings
from ingest_pipeline.store import prompts as prompts_repo
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.integrations import DEFAULT_TENANT
from ingest_pipeline.store.prompt_status import (
    LEDGER_STATUS,
    StatusFilter,
    batch_statuses,
    run_statuses,
)

TEXT_WIDTH = 60


def _check_models(models: list[str]) -> None:
    """Every model must be in the registry (``INGEST_MODELS`` adds more)."""
    registry = load_registry(get_settings().models)
    for model in models:
        try:
            get_model(model, registry)
        except UnknownModel as exc:
            raise UsageError(str(exc)) from exc


def specs_from_file(path: str) -> list[prompts_repo.PromptSpec]:
    """A JSON list of prompts: ``{"name", "text", "models", "runs_per_day", "owner"}``."""
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"--from-file {path}: {exc}") from exc
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise UsageError(f"--from-file {path}: expected a JSON list of prompt objects")
    specs = []
    for n, entry in enumerate(entries, start=1):
        unknown = set(entry) - {"name", "text", "models", "runs_per_day", "owner", "active"}
        if unknown:
            raise UsageError(f"--from-file {path}: prompt {n} has unknown fields {sorted(unknown)}")
        specs.append(
            prompts_repo.PromptSpec(
                text=str(entry.get("text") or ""),
                models=tuple(entry.get("models") or ()),
                runs_per_day=int(entry.get("runs_per_day", 1)),
                name=entry.get("name"),
                owner=entry.get("owner"),
                active=bool(entry.get("active", True)),
            )
        )
    return specs


def add_prompts(
    set_name: str,
    specs: list[prompts_repo.PromptSpec],
    *,
    tenant_id: str = DEFAULT_TENANT,
    skip_existing: bool = False,
) -> tuple[str, list[int]]:
    """Store ``specs`` in the set (created when new, its partitions registered); returns
    the set's partition key and the new prompts' ids. With ``skip_existing`` a prompt whose
    name the set has is left as it is (so a bundled file can be added twice)."""
    _check_models([m for spec in specs for m in spec.models])
    url = migrated_url()
    added: list[int] = []
    with session_scope(url) as session:
        row = prompts_repo.prompt_set(session, set_name, tenant_id=tenant_id, create=True)
        key, tenant = row.partition_key or "", row.tenant_id
        existing = {p.name for p in prompts_repo.list_prompts(session, integration_id=row.id)}
        for spec in specs:
            if skip_existing and spec.name in existing:
                continue
            added.append(prompts_repo.add_prompt(session, row, spec).id)
    from ingest_pipeline.defs.local_launch import register_if_served

    register_if_served(key, stream=prompts_repo.PROMPT_RUNS_STREAM, tenant=tenant)
    return key, added


def cmd_prompts_add(args: argparse.Namespace) -> int:
    if args.from_file:
        if args.text:
            raise UsageError("give the prompt as TEXT or --from-file FILE, not both")
        specs = specs_from_file(args.from_file)
    elif args.text:
        specs = [
            prompts_repo.PromptSpec(
                text=args.text,
                models=tuple(args.model or ()),
                runs_per_day=args.runs,
                name=args.name,
                owner=args.owner,
            )
        ]
    else:
        raise UsageError("give the prompt's TEXT (or --from-file FILE)")
    try:
        key, added = add_prompts(args.set, specs, tenant_id=args.tenant)
    except prompts_repo.PromptError as exc:
        raise UsageError(str(exc)) from exc
    print(f"prompt set {args.set} ({key}): added prompt(s) {', '.join(map(str, added))}")
    return 0


def _set_id(session: Any, name: str | None) -> int | None:
    if name is None:
        return None
    try:
        return prompts_repo.prompt_set(session, name).id
    except prompts_repo.PromptError as exc:
        raise UsageError(str(exc)) from exc


def cmd_prompts_list(args: argparse.Namespace) -> int:
    with session_scope(migrated_url()) as session:
        set_id = _set_id(session, args.set)
        rows = prompts_repo.list_prompts(session, integration_id=set_id, active_only=not args.all)
        sets = {p.integration_id for p in rows}
        names = {i: prompts_repo.prompt_set_name(session, i) for i in sets}
        table = [
            (
                p.id,
                names[p.integration_id],
                p.name,
                ", ".join(p.models),
                p.runs_per_day,
                "active" if p.active else "disabled",
                p.owner or "",
                _short(p.text),
            )
            for p in rows
        ]
    if not table:
        print("no prompts yet: `ingest-pipeline prompts add --set NAME --model M TEXT` adds one")
        return 0
    print_table(("id", "set", "name", "models", "runs/day", "state", "owner", "text"), table)
    return 0


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= TEXT_WIDTH else flat[: TEXT_WIDTH - 1] + "…"


def cmd_prompts_disable(args: argparse.Namespace) -> int:
    with session_scope(migrated_url()) as session:
        try:
            prompt = prompts_repo.find_prompt(
                session, args.prompt, integration_id=_set_id(session, args.set)
            )
        except prompts_repo.PromptError as exc:
            raise UsageError(str(exc)) from exc
        changed = prompts_repo.disable_prompt(session, prompt)
        label = f"prompt {prompt.id} ({prompt.name})"
    print(f"{label} disabled" if changed else f"{label} was already disabled")
    return 0


def cmd_prompts_status(args: argparse.Namespace) -> int:
    with session_scope(migrated_url()) as session:
        prompt_id = None
        if args.prompt:
            try:
                prompt_id = prompts_repo.find_prompt(
                    session, args.prompt, integration_id=_set_id(session, args.set)
                ).id
            except prompts_repo.PromptError as exc:
                raise UsageError(str(exc)) from exc
        narrowed = StatusFilter(
            integration_id=_set_id(session, args.set),
            day=args.day,
            prompt_id=prompt_id,
            status=args.status,
        )
        batches = batch_statuses(session, narrowed)
        runs = run_statuses(session, narrowed) if args.status else []
    if not batches:
        print("no prompt runs match")
        return 0
    names = list(LEDGER_STATUS)
    print_table(
        ("batch", "set", *names, "total"),
        [
            (b.day.isoformat(), b.prompt_set, *(b.counts[n] for n in names), b.total)
            for b in batches
        ],
    )
    if runs:
        print()
        print_table(
            ("run", "set", "status", "attempts", "reason"),
            [(r.external_id, r.prompt_set, r.status, r.attempts, r.reason or "") for r in runs],
        )
    return 0


def add_prompt_commands(sub: Any) -> None:
    """The ``prompts`` command group on the main parser's subcommands."""
    group = sub.add_parser("prompts", help="prompt sets asked every day").add_subparsers(
        dest="prompts_command", required=True
    )
    add = group.add_parser("add", help="add a prompt to a set (the set is created if new)")
    add.add_argument("text", nargs="?", help="the prompt")
    add.add_argument("--set", required=True, help="the prompt set's name")
    add.add_argument(
        "--model", action="append", help="a registry model to ask (repeat for several)"
    )
    add.add_argument("--runs", type=int, default=1, help="times each model is asked a day")
    add.add_argument("--name", help="the prompt's name in the set (default p<id>)")
    add.add_argument("--owner", help="who the prompt belongs to")
    add.add_argument("--tenant", default=DEFAULT_TENANT, help="the tenant of a new set")
    add.add_argument(
        "--from-file",
        help='a JSON list of prompts: [{"name", "text", "models", "runs_per_day", "owner"}]',
    )
    add.set_defaults(func=cmd_prompts_add)
    listing = group.add_parser("list", help="the prompts (active ones unless --all)")
    listing.add_argument("--set", help="only this prompt set")
    listing.add_argument("--all", action="store_true", help="disabled prompts too")
    listing.set_defaults(func=cmd_prompts_list)
    disable = group.add_parser("disable", help="stop asking a prompt from the next batch on")
    disable.add_argument("prompt", help="the prompt's id or name")
    disable.add_argument("--set", help="the set, when two sets use the name")
    disable.set_defaults(func=cmd_prompts_disable)
    status = group.add_parser(
        "status", help="queued / processing / succeeded / failed / skipped per batch"
    )
    status.add_argument("--set", help="only this prompt set")
    status.add_argument("--day", type=parse_date, help="only this batch day (UTC)")
    status.add_argument("--prompt", help="only this prompt (id or name)")
    status.add_argument(
        "--status", choices=list(LEDGER_STATUS), help="only runs in this status (listed too)"
    )
    status.set_defaults(func=cmd_prompts_status)
