"""``ingest-pipeline``: manage integrations, run partitions through Dagster, read status."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from ingest_pipeline.cli_common import UsageError, migrated_url, parse_date
from ingest_pipeline.cli_prompts import add_prompt_commands
from ingest_pipeline.cli_tables import (
    print_mail_summary,
    print_summary,
    print_table,
    print_top_entities,
    print_top_matches,
)
from ingest_pipeline.cli_workers import add_worker_commands
from ingest_pipeline.derived.entity_mentions_daily import top_entities
from ingest_pipeline.derived.mail_interactions import OWN_ADDRESSES_OPTION
from ingest_pipeline.derived.mail_summary import mail_summary
from ingest_pipeline.extraction.tasks import MAIL_TASKS
from ingest_pipeline.integration_setup import (
    check_dav,
    check_gmail,
    check_google,
    check_imap,
    check_local_path,
    check_microsoft,
)
from ingest_pipeline.settings import get_settings
from ingest_pipeline.sources.base import SourceError
from ingest_pipeline.sources.registry import PROVIDERS, get_provider
from ingest_pipeline.store import integrations as integrations_repo
from ingest_pipeline.store.credentials_vault import CredentialsKeyError, new_key
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.models import SNAPSHOT_DAY
from ingest_pipeline.store.partition_report import DayReport, day_reports, integration_statuses
from ingest_pipeline.store.search_keywords import KEYWORD_SEARCH_OPTION
from ingest_pipeline.streams.contacts.email_address import normalize_email
from ingest_pipeline.streams.registry import get_stream

SAMPLE_NAME = "sample-mailbox"
# The week the bundled samples cover (the sample calendar's recurrences go on past it).
SAMPLE_DAYS = [dt.date(2026, 11, 2) + dt.timedelta(days=n) for n in range(7)]


_date = parse_date
_migrated_url = migrated_url


def cmd_db_upgrade(_: argparse.Namespace) -> int:
    url = _migrated_url()
    print(f"app database is at the latest revision ({_redact(url)})")
    return 0


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# The providers whose listings can search for the tenant's keywords.
KEYWORD_PROVIDERS = ("gmail", "outlook")


def add_integration(
    *,
    provider: str,
    task: str | None,
    job_id: int | None,
    name: str | None,
    stream: str | None = None,
    path: str | None = None,
    credentials_file: str | None = None,
    query: str | None = None,
    label: str | None = None,
    api_endpoint: str | None = None,
    mailbox: str | None = None,
    graph_url: str | None = None,
    authority_host: str | None = None,
    folder: str | None = None,
    keyword_search: bool = False,
    calendars: list[str] | None = None,
    own_addresses: list[str] | None = None,
    tenant: str = integrations_repo.DEFAULT_TENANT,
    imap: dict[str, Any] | None = None,
    dav: dict[str, Any] | None = None,
) -> tuple[str, int]:
    """Check the source, store the integration, register its Dagster partition; returns key.

    ``stream`` defaults to the provider's first stream and ``task`` to the stream's default
    task (mail: job_posting; contacts and calendar events have none). ``own_addresses`` are
    the account's addresses besides its account name (a local mailbox has none of its own),
    which make mail it sent outbound. ``imap`` holds the IMAP server's settings
    (`integration_setup.check_imap`'s arguments), ``dav`` a CalDAV/CardDAV server's
    (`integration_setup.check_dav`'s).
    """
    spec = get_provider(provider)
    stream = stream or spec.streams[0]
    if stream not in spec.streams:
        raise UsageError(f"--provider {provider} yields {', '.join(spec.streams)}, not {stream}")
    kind = get_stream(stream)
    if kind.default_task is None and task is not None:
        raise UsageError(f"the {stream} stream has no extraction task; leave out --task")
    task = task or kind.default_task
    if task == "job_application" and job_id is None:
        raise UsageError(
            "--task job_application needs --job-id N (the job the applications are for)"
        )
    if spec.needs == "app_database":
        raise UsageError(
            f"a {spec.account_kind} lives in the app database: "
            "`ingest-pipeline prompts add --set NAME --model M TEXT` creates it"
        )
    if spec.needs == "path":
        if not path:
            raise UsageError(f"--provider {provider} needs --path ({spec.help})")
        checked = check_local_path(provider, path)
    elif provider == "imap":
        checked = check_imap(**(imap or {}))
    elif provider in ("caldav", "carddav"):
        checked = check_dav(provider, **(dav or {}))
    elif spec.account_kind == "Microsoft":
        checked = check_microsoft(
            provider,
            credentials_file,
            mailbox=mailbox,
            graph_url=graph_url,
            authority_host=authority_host,
            folder=folder,
        )
    else:
        if not credentials_file:
            raise UsageError(
                f"--provider {provider} needs --credentials FILE (OAuth or service account)"
            )
        if provider == "gmail":
            checked = check_gmail(
                credentials_file, query=query, label=label, api_endpoint=api_endpoint
            )
        else:
            checked = check_google(
                provider, credentials_file, api_endpoint=api_endpoint, calendars=calendars
            )
    if keyword_search:
        if provider not in KEYWORD_PROVIDERS:
            raise UsageError(
                f"--keyword-search narrows mail listings ({', '.join(KEYWORD_PROVIDERS)})"
            )
        checked = replace(checked, options={**checked.options, KEYWORD_SEARCH_OPTION: True})
    if own_addresses:
        if stream != "mail":
            raise UsageError("--own-address tells which mail the account sent; mail only")
        normalised = [normalize_email(a) for a in own_addresses]
        bad = [a for a, n in zip(own_addresses, normalised, strict=True) if n is None]
        if bad:
            raise UsageError(f"--own-address {bad[0]!r} is not an email address")
        options = {**checked.options, OWN_ADDRESSES_OPTION: [n for n in normalised if n]}
        checked = replace(checked, options=options)
    url = _migrated_url()
    with session_scope(url) as session:
        if name and integrations_repo.find_by_name(session, name):
            raise UsageError(f"an integration named {name!r} already exists")
        row = integrations_repo.add_integration(
            session,
            provider=provider,
            stream=stream,
            account=checked.account,
            task=task,
            name=name,
            options={**checked.options, **({"job_id": job_id} if job_id is not None else {})},
            credentials=checked.credentials,
            tenant_id=tenant,
        )
        key, integration_id = row.partition_key or "", row.id
    from ingest_pipeline.defs.local_launch import register_if_served

    if not register_if_served(key, stream=stream, tenant=tenant):
        print(
            f"tenant {tenant!r} is not among INGEST_TENANTS here: the deployment that serves "
            "it makes the integration a partition",
            file=sys.stderr,
        )
    return key, integration_id


def _one_folder(args: argparse.Namespace) -> str | None:
    """Outlook reads one folder; IMAP takes ``--folder`` several times."""
    folders = args.folder or []
    if len(folders) > 1 and args.provider != "imap":
        raise UsageError(f"--provider {args.provider} reads one --folder")
    return folders[0] if folders else None


def cmd_integrations_add(args: argparse.Namespace) -> int:
    key, _id = add_integration(
        provider=args.provider,
        stream=args.stream,
        task=args.task,
        job_id=args.job_id,
        name=args.name,
        path=args.path,
        credentials_file=args.credentials,
        query=args.query,
        label=args.label,
        api_endpoint=args.api_endpoint,
        mailbox=args.mailbox,
        graph_url=args.graph_url,
        authority_host=args.authority_host,
        folder=_one_folder(args),
        keyword_search=args.keyword_search,
        calendars=args.calendar,
        own_addresses=args.own_address,
        tenant=args.tenant,
        imap={
            "host": args.host,
            "user": args.user,
            "password_env": args.password_env,
            "oauth2_token_env": args.oauth2_token_env,
            "folders": args.folder,
            "port": args.port,
            "security": args.security,
            "ca_file": args.ca_file,
        },
        dav={
            "url": args.url,
            "user": args.user,
            "password_env": args.password_env,
            "ca_file": args.ca_file,
            "collections": args.calendar if args.provider == "caldav" else args.address_book,
        },
    )
    print(key)
    return 0


def cmd_credentials_new_key(_: argparse.Namespace) -> int:
    print(new_key())
    return 0


def cmd_integrations_list(_: argparse.Namespace) -> int:
    with session_scope(_migrated_url()) as session:
        rows = integrations_repo.list_integrations(session)
        table = [
            (
                r.partition_key or "",
                r.name,
                r.provider,
                r.stream,
                r.task or "-",
                r.status,
                _budget_cell(r.options or {}),
                r.account,
            )
            for r in rows
        ]
    print_table(
        ("key", "name", "provider", "stream", "task", "status", "llm budget/day", "account"), table
    )
    return 0


def _budget_cell(options: dict[str, object]) -> str:
    budget = options.get(integrations_repo.LLM_BUDGET_OPTION)
    return f"${float(budget):.2f}" if isinstance(budget, int | float) else "-"


def cmd_integrations_disable(args: argparse.Namespace) -> int:
    with session_scope(_migrated_url()) as session:
        row = integrations_repo.find_integration(session, args.key)
        integrations_repo.set_status(session, row, "disabled")
        print(f"{row.partition_key} disabled: no more runs will import from it")
    return 0


def cmd_integrations_budget(args: argparse.Namespace) -> int:
    with session_scope(_migrated_url()) as session:
        row = integrations_repo.find_integration(session, args.key)
        try:
            integrations_repo.set_llm_budget(session, row, None if args.clear else args.usd)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        if args.clear:
            print(f"{row.partition_key}: no LLM budget of its own (the deployment's applies)")
        else:
            print(
                f"{row.partition_key}: its runs stop paying for LLM calls past ${args.usd:.2f} "
                "a day (UTC); waiting items continue the next day"
            )
    return 0


def run_days(
    key_or_name: str, days: list[dt.date] | None
) -> tuple[list[DayReport], dict[str, float]]:
    """Materialize each day (or, for a snapshot stream, its one partition) through Dagster,
    printing progress; returns reports and totals."""
    from ingest_pipeline.defs.local_launch import (
        RunOutcome,
        derive_days,
        local_instance,
        materialize_days,
    )

    url = _migrated_url()
    with session_scope(url) as session:
        row = integrations_repo.find_integration(session, key_or_name)
        key, integration_id, stream = row.partition_key or "", row.id, row.stream
    kind = get_stream(stream)
    if kind.dated and days is None:
        raise UsageError(f"{key} imports {stream}, which is partitioned by day: give --date")
    if not kind.dated and days is not None:
        raise UsageError(
            f"{key} imports {stream}, a snapshot with no days: leave out --date and --to "
            "(each run applies what changed since the last)"
        )
    totals: dict[str, float] = {}
    failures: list[str] = []

    def progress(outcome: RunOutcome) -> None:
        day = outcome.partition.day
        label = day.isoformat() if day is not None else "snapshot"
        if outcome.success:
            m = outcome.metrics
            for name in ("inserted", "updated", "extraction_calls", "cache_hits", "failed"):
                totals[name] = totals.get(name, 0) + float(m.get(name, 0))
            print(
                f"  {label}  ok   run {outcome.run_id[:8]}  enumerated {m.get('enumerated', 0)}, "
                f"new {m.get('new_items', 0)}, changed {m.get('changed_items', 0)}, "
                f"inserted {m.get('inserted', 0)}, extraction calls {m.get('extraction_calls', 0)}",
                flush=True,
            )
        else:
            failures.append(f"{label}: {outcome.error}")
            print(f"  {label}  FAILED run {outcome.run_id[:8]}: {outcome.error}", flush=True)

    what = f"{len(days)} day(s)" if days is not None else "its snapshot"
    print(f"materializing ingest/{stream} for {key}, {what}, through Dagster", flush=True)
    instance = local_instance()
    outcomes = materialize_days(instance, key, days, stream=stream, on_done=progress)

    def derived_progress(outcome: RunOutcome) -> None:
        day = outcome.partition.day
        if not outcome.success:
            failures.append(f"{day} derived: {outcome.error}")
            print(f"  {day}  FAILED derived run {outcome.run_id[:8]}: {outcome.error}", flush=True)
            return
        written = changed = 0.0
        for name, value in outcome.metrics.items():
            if name.endswith(("_inserted", "_created")):
                written += float(value)
            elif name.endswith(("_updated", "_deleted", "_linked", "_marked_seen")):
                changed += float(value)
        totals["inserted"] = totals.get("inserted", 0) + written
        totals["updated"] = totals.get("updated", 0) + changed
        print(
            f"  {day}  ok   run {outcome.run_id[:8]}  derived: {int(written)} rows inserted, "
            f"{int(changed)} updated",
            flush=True,
        )

    # What the automation sensor does after each ingest run when the daemon runs.
    ingested = [o.partition.day for o in outcomes if o.success and o.partition.day]
    derive_days(instance, key, ingested, stream=stream, on_done=derived_progress)
    stored_days = days if days is not None else [SNAPSHOT_DAY]
    with session_scope(url) as session:
        produced = kind.produced_per_day(session, integration_id, stored_days)
        reports = day_reports(session, integration_id, days, produced=produced)
    if failures:
        totals["failed_runs"] = len(failures)
    return reports, totals


def _day_range(start: dt.date | None, end: dt.date | None) -> list[dt.date] | None:
    if start is None:
        if end is not None:
            raise UsageError("--to needs --date")
        return None
    end = end or start
    if end < start:
        raise UsageError(f"--to {end} is before --date {start}")
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def cmd_run(args: argparse.Namespace) -> int:
    reports, totals = run_days(args.integration, _day_range(args.date, args.to))
    print_summary(reports, totals)
    return 1 if totals.get("failed_runs") else 0


def cmd_status(_: argparse.Namespace) -> int:
    with session_scope(_migrated_url()) as session:
        statuses = integration_statuses(session)
    rows = [
        (
            s.key,
            s.status,
            s.last_activity.strftime("%Y-%m-%d %H:%M") if s.last_activity else "never",
            s.last_run_status or "-",
            s.done,
            s.skipped,
            s.failed,
            s.unfinished,
            (s.latest_error or "")[:80],
        )
        for s in statuses
    ]
    headers = (
        "key",
        "status",
        "last activity",
        "last run",
        "done",
        "skipped",
        "failed",
        "unfinished",
        "latest error",
    )
    print_table(headers, rows)
    return 0


def _embedder() -> Any:
    """The embedder the settings configure, as the derived embeddings asset builds it."""
    from ingest_pipeline.defs.resources import embedder_from

    try:
        return embedder_from(get_settings()).build()
    except Exception as exc:  # dg.Failure for a missing key or an unknown embedder
        raise UsageError(getattr(exc, "description", None) or str(exc)) from exc


def cmd_search(args: argparse.Namespace) -> int:
    from ingest_pipeline.derived.vector_search import KINDS, search

    embedder = _embedder()
    [query] = embedder.embed([args.text])
    with session_scope(_migrated_url()) as session:
        hits = search(
            session, args.tenant, embedder.label, query, kinds=args.kind or KINDS, k=args.limit
        )
    if not hits:
        print(f"nothing embedded under {embedder.label} for tenant {args.tenant!r} yet")
        return 0
    print_table(
        ("kind", "id", "score", "what"),
        [(h.kind, h.ref_id, f"{h.score:.3f}", h.label[:80]) for h in hits],
    )
    print(f"(model {embedder.label})")
    return 0


def cmd_match(args: argparse.Namespace) -> int:
    from ingest_pipeline.derived.matching import NothingToMatch, match_candidate, match_posting

    model = _embedder().label
    with session_scope(_migrated_url()) as session:
        try:
            if args.posting is not None:
                matches = match_posting(session, args.posting, model, top=args.limit)
                what = "candidate"
            else:
                matches = match_candidate(session, args.candidate, model, top=args.limit)
                what = "posting"
        except NothingToMatch as exc:
            raise UsageError(str(exc)) from exc
    print_table(
        (what, "id", "score", "similarity", "skills covered", "why: shared skills"),
        [
            (
                m.label[:50],
                m.ref_id,
                f"{m.score:.3f}",
                f"{m.similarity:.3f}",
                f"{m.skill_share:.0%}",
                ", ".join(m.shared_skills) or "-",
            )
            for m in matches
        ],
    )
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    from ingest_pipeline.derived.insights import insight_of
    from ingest_pipeline.derived.timeline import contact_addresses, timeline_for

    with session_scope(_migrated_url()) as session:
        name, addresses = contact_addresses(session, args.tenant, args.contact)
        entries = timeline_for(session, args.tenant, addresses)
        insight = insight_of(session, args.tenant, args.contact)
        about = (insight.summary, insight.next_step, insight.model) if insight else None
    who = f"{name} <{', '.join(addresses)}>" if name else addresses[0]
    if not entries:
        print(f"nothing on the timeline of {who} yet")
        return 0
    print(f"timeline of {who}")
    if about:
        summary, next_step, model = about
        print(f"  {summary}")
        if next_step:
            print(f"  next: {next_step}")
        print(f"  (insight by {model})")
    print_table(
        ("when (UTC)", "what", ""),
        [
            (e.occurred_at.strftime("%Y-%m-%d %H:%M"), e.kind.replace("_", " "), e.label)
            for e in entries
        ],
    )
    return 0


@dataclass(frozen=True)
class SampleIntegration:
    """One integration ``make run`` registers from the bundled sample data."""

    name: str
    provider: str
    file: str
    task: str | None = None
    job_id: int | None = None
    own_addresses: tuple[str, ...] = ()


# The sample mailbox belongs to Morgan Lee.
SAMPLE_OWNER = ("morgan.lee@example.com",)
SAMPLE_INTEGRATIONS = (
    SampleIntegration(SAMPLE_NAME, "mailbox", "sample.mbox", "job_posting", None, SAMPLE_OWNER),
    SampleIntegration(
        f"{SAMPLE_NAME}-applications",
        "mailbox",
        "sample.mbox",
        "job_application",
        1,
        SAMPLE_OWNER,
    ),
    SampleIntegration("sample-contacts", "vcard", "sample_contacts.vcf"),
    SampleIntegration("sample-calendar", "ics", "sample_calendar.ics"),
)


def cmd_demo(_: argparse.Namespace) -> int:
    """Register the bundled samples (mail once per task, contacts, calendar) and import
    every partition they cover."""
    url = _migrated_url()
    failed = False
    for sample in SAMPLE_INTEGRATIONS:
        path = Path(str(resources.files("ingest_pipeline").joinpath("sample_data", sample.file)))
        with session_scope(url) as session:
            existing = integrations_repo.find_by_name(session, sample.name)
            key = existing.partition_key if existing else None
        if key is None:
            key, _id = add_integration(
                provider=sample.provider,
                path=str(path),
                task=sample.task,
                job_id=sample.job_id,
                name=sample.name,
                own_addresses=list(sample.own_addresses),
            )
            print(f"registered the bundled {sample.file} as integration {key}")
        print(f"\n== {sample.name}: {sample.provider}, task {sample.task or 'none'} ==")
        stream = get_provider(sample.provider).streams[0]
        reports, totals = run_days(key, SAMPLE_DAYS if get_stream(stream).dated else None)
        print_summary(reports, totals)
        failed = failed or bool(totals.get("failed_runs"))
    failed = demo_prompt_set(url) or failed
    from ingest_pipeline.derived.matching import best_candidates_per_posting

    model = _embedder().label
    with session_scope(url) as session:
        print_mail_summary(mail_summary(session, integrations_repo.DEFAULT_TENANT))
        best = best_candidates_per_posting(session, integrations_repo.DEFAULT_TENANT, model)
    print_top_matches(best, model)
    print("\nSee the runs and materializations: make dev  (then open http://127.0.0.1:3000)")
    return 1 if failed else 0


SAMPLE_PROMPT_SET = "sample-prompts"
# The prompt set is asked for the last two sample days: fixed days, so a second `make run`
# asks nothing.
SAMPLE_PROMPT_DAYS = SAMPLE_DAYS[-2:]


def demo_prompt_set(url: str) -> bool:
    """Add the bundled prompt set (once) and ask its batches; True when a run failed."""
    from ingest_pipeline.cli_prompts import add_prompts, specs_from_file

    path = resources.files("ingest_pipeline").joinpath("sample_data", "sample_prompts.json")
    key, added = add_prompts(SAMPLE_PROMPT_SET, specs_from_file(str(path)), skip_existing=True)
    if added:
        print(f"added the bundled prompt set {SAMPLE_PROMPT_SET} ({key}): {len(added)} prompts")
    print(f"\n== {SAMPLE_PROMPT_SET}: prompts, asked daily of each prompt's models ==")
    reports, totals = run_days(key, SAMPLE_PROMPT_DAYS)
    print_summary(reports, totals)
    with session_scope(url) as session:
        top = top_entities(session, SAMPLE_PROMPT_SET, SAMPLE_PROMPT_DAYS)
    print_top_entities(top)
    return bool(totals.get("failed_runs"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ingest-pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="app database").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    integ = sub.add_parser("integrations", help="connected accounts").add_subparsers(
        dest="integrations_command", required=True
    )
    add = integ.add_parser("add", help="register an integration and print its partition key")
    add.add_argument("--provider", required=True, choices=list(PROVIDERS))
    add.add_argument("--stream", help="the stream to import (default: the provider's first)")
    add.add_argument(
        "--tenant",
        default=integrations_repo.DEFAULT_TENANT,
        help="the tenant the account belongs to (a shard serves some tenants: INGEST_TENANTS)",
    )
    add.add_argument(
        "--path",
        help="mailbox: mbox, Maildir or .eml folder; vcard: .vcf file or folder; "
        "ics: .ics file or folder",
    )
    add.add_argument(
        "--credentials",
        help="gmail, google-*: OAuth authorized-user or service-account JSON; outlook, "
        "microsoft-contacts: client-credentials or refresh-token JSON (default: MS_* variables)",
    )
    add.add_argument("--mailbox", help="outlook, microsoft-contacts: the user id or UPN to read")
    add.add_argument("--graph-url", help="outlook, microsoft-contacts: Graph base URL (https)")
    add.add_argument("--authority-host", help="outlook, microsoft-contacts: sign-in host (https)")
    add.add_argument(
        "--folder",
        action="append",
        help="outlook: the mail folder to read (default inbox); imap: a folder to read "
        "(repeat for several; default INBOX)",
    )
    add.add_argument("--host", help="imap: the server's host name")
    add.add_argument("--port", type=int, help="imap: the server's port (default 993, or 143)")
    add.add_argument(
        "--security",
        choices=["tls", "starttls", "plain"],
        default="tls",
        help="imap: implicit TLS (default), STARTTLS, or plain (a server on this machine only)",
    )
    add.add_argument(
        "--url", help="caldav, carddav: the server's URL (https; its root or /.well-known/...)"
    )
    add.add_argument(
        "--ca-file", help="imap, caldav, carddav: a CA certificate to trust for the server"
    )
    add.add_argument("--user", help="imap, caldav, carddav: the login name")
    add.add_argument(
        "--password-env",
        help="imap, caldav, carddav: the environment variable holding the (app) password",
    )
    add.add_argument(
        "--oauth2-token-env", help="imap: the environment variable holding an XOAUTH2 access token"
    )
    add.add_argument(
        "--calendar",
        action="append",
        help="google-calendar: a calendar id to read (repeat for several; default primary); "
        "caldav: a calendar's name or path (default: all)",
    )
    add.add_argument(
        "--address-book",
        action="append",
        help="carddav: an address book's name or path (repeat for several; default: all)",
    )
    add.add_argument(
        "--own-address",
        action="append",
        help="mail: an address of the account's own (repeat for aliases); mail from it is "
        "outbound (gmail and outlook know their account's address)",
    )
    add.add_argument(
        "--keyword-search",
        action="store_true",
        help="gmail, outlook: list only mail mentioning the roles the tenant's candidates want",
    )
    add.add_argument("--query", help="gmail: extra search query (keywords, operators)")
    add.add_argument("--label", help="gmail: only messages with this label")
    add.add_argument("--api-endpoint", help="gmail, google-contacts, google-calendar: API base URL")
    add.add_argument(
        "--task", choices=MAIL_TASKS, help="mail: the extraction task (default job_posting)"
    )
    add.add_argument("--job-id", type=int, help="the job applications are for (job_application)")
    add.add_argument("--name", help="a unique name (default: the partition key)")
    add.set_defaults(func=cmd_integrations_add)
    integ.add_parser("list", help="list integrations").set_defaults(func=cmd_integrations_list)
    creds = sub.add_parser("credentials", help="credential encryption").add_subparsers(
        dest="credentials_command", required=True
    )
    creds.add_parser("new-key", help="print a new INGEST_CREDENTIALS_KEY").set_defaults(
        func=cmd_credentials_new_key
    )
    disable = integ.add_parser("disable", help="stop importing from an integration")
    disable.add_argument("key", help="partition key or name")
    disable.set_defaults(func=cmd_integrations_disable)
    budget = integ.add_parser(
        "budget", help="set an integration's own daily LLM budget (USD, UTC day)"
    )
    budget.add_argument("key", help="partition key or name")
    amount = budget.add_mutually_exclusive_group(required=True)
    amount.add_argument("--usd", type=float, help="the most its runs may spend on LLM calls a day")
    amount.add_argument("--clear", action="store_true", help="remove its own budget")
    budget.set_defaults(func=cmd_integrations_budget)

    run = sub.add_parser("run", help="materialize partitions through Dagster")
    run.add_argument("--integration", required=True, help="partition key or name")
    run.add_argument(
        "--date", type=_date, help="first day (UTC), YYYY-MM-DD; not for contacts (a snapshot)"
    )
    run.add_argument("--to", type=_date, help="last day (inclusive), YYYY-MM-DD")
    run.set_defaults(func=cmd_run)

    find = sub.add_parser(
        "search", help="the stored messages, postings and candidates nearest a text"
    )
    find.add_argument("text")
    find.add_argument("--kind", action="append", choices=["message", "job_posting", "candidate"])
    find.add_argument("--limit", type=int, default=10)
    find.add_argument("--tenant", default=integrations_repo.DEFAULT_TENANT)
    find.set_defaults(func=cmd_search)
    match = sub.add_parser(
        "match", help="rank candidates for a posting, or postings for a candidate"
    )
    side = match.add_mutually_exclusive_group(required=True)
    side.add_argument("--posting", type=int, help="a job posting id: its best candidates")
    side.add_argument("--candidate", type=int, help="a candidate id: the postings that fit")
    match.add_argument("--limit", type=int, default=10)
    match.set_defaults(func=cmd_match)

    timeline = sub.add_parser("timeline", help="a person's emails, meetings, applications")
    timeline.add_argument("--contact", required=True, help="one of the person's addresses")
    timeline.add_argument("--tenant", default=integrations_repo.DEFAULT_TENANT)
    timeline.set_defaults(func=cmd_timeline)

    add_prompt_commands(sub)
    add_worker_commands(sub)
    sub.add_parser("status", help="per integration: last run, counts, errors").set_defaults(
        func=cmd_status
    )
    sub.add_parser("demo", help="import the bundled sample data (make run)").set_defaults(
        func=cmd_demo
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parsed = build_parser().parse_args(argv)
    try:
        return int(parsed.func(parsed))
    except (
        UsageError,
        SourceError,
        CredentialsKeyError,
        integrations_repo.IntegrationNotFound,
    ) as exc:
        print(f"ingest-pipeline: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
