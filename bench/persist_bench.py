"""Benchmark: the pipeline's batched message upsert against a row-at-a-time baseline.

Run by hand (nothing here asserts on timings)::

    .venv/bin/python bench/persist_bench.py [--messages 50000] \
        [--url postgresql+psycopg2://postgres@127.0.0.1:5432/postgres]

It creates two throwaway databases on the server (``persist_bench_<hex>_pipeline`` and
``persist_bench_<hex>_baseline``), migrates both with ``ingest_pipeline.store.migrate.upgrade``
and seeds each with one integration and one ``ingest_items`` ledger row per message (one
server-side ``INSERT ... SELECT generate_series``, not timed). It then times, in this one
process and on the same deterministic synthetic messages:

(a) pipeline: ``mail_records.upsert_messages(session, rows)`` over batches of the size persist
    claims (``Settings.batch_size`` = 500; 100 and 1000 are reported too), each batch in its own
    ``session_scope`` transaction, as ``persist_step`` does for the mail stream (its
    ``MailKind.persist``, ``streams/mail/mail_persist.py``);
(b) baseline: a row-at-a-time loop on one connection: ``SELECT id FROM messages WHERE
    integration_id = :i AND message_key = :k``, then ``INSERT`` (absent) or ``UPDATE``
    (present), committing after every message;

first on empty ``messages`` tables ("first load"), then again with every message already
stored ("re-run"). Only the database work is timed (``time.perf_counter`` around each batch /
chunk); generating the synthetic rows is not. Both databases are dropped at the end, also on
error or Ctrl-C.

If the baseline's projected time for a pass exceeds ``--baseline-budget`` seconds (default
480), that pass is timed on the first ``--sample`` messages (default 10,000) only and
extrapolated linearly to all of them; the output marks such figures with ``*``. In that case
the rest of the baseline database is filled, untimed, with ``upsert_messages`` so that the
re-run and the final verification still see every message.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg2
import sqlalchemy as sa

from ingest_pipeline.domain import Address, ParsedMessage
from ingest_pipeline.settings import Settings
from ingest_pipeline.store import mail_records
from ingest_pipeline.store.database import (
    dispose_engine,
    get_engine,
    normalize_url,
    session_scope,
)
from ingest_pipeline.store.migrate import upgrade
from ingest_pipeline.store.models import Integration
from ingest_pipeline.store.upsert import CHUNK as UPSERT_CHUNK

DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
STREAM = "mail"  # the integration's stream and its ledger rows' ``stream``
DEFAULT_MESSAGES = 50_000
PIPELINE_BATCH = int(Settings.model_fields["batch_size"].default)  # 500
EXTRA_BATCHES = (100, 1000)
BASELINE_CHUNK = 1000  # rows generated (untimed) per slice of the baseline loop
SEED = 20250611
BASE_TIME = dt.datetime(2025, 3, 3, 8, 0, tzinfo=dt.UTC)
RECEIVED_STEP_SECONDS = 40  # message i is received at BASE_TIME + 40 s * i

# ---------------------------------------------------------------------------------------------
# Deterministic synthetic messages
# ---------------------------------------------------------------------------------------------


def _split(text: str, sep: str | None = None) -> tuple[str, ...]:
    """A word list written as one string (long vocabularies read better that way)."""
    return tuple(text.split(sep))


FIRST = _split(
    "Alex Priya Jordan Mei Carlos Fatima Noah Olga Samir Hannah Diego Aiko Liam Zainab Tomasz "
    "Grace Ravi Sofia Kwame Elena Marcus Leila Jonas Ana Kenji Chloe Omar Ingrid Mateo Yara"
)
LAST = _split(
    "Nguyen Patel Smith Garcia Kowalski Okafor Schmidt Rossi Haddad Tanaka Johansson Silva "
    "Murphy Chen Ivanova Mensah Dubois Novak Fischer Costa Park Ahmed Larsen Moreau Singh"
)
DOMAINS = _split(
    "example.com example.org example.net mail.example.com talent.example.org "
    "staffing.example.net recruit.example.com careers.example.org"
)
ROLES = _split(
    "Senior Python Developer|Data Engineer|DevOps Engineer|Frontend Developer (React)|"
    "QA Automation Engineer|Product Manager|Site Reliability Engineer|Java Backend Developer|"
    "Machine Learning Engineer|Business Analyst|Cloud Architect (AWS)|Scrum Master",
    "|",
)
COMPANIES = _split(
    "Northwind Traders|Contoso Ltd|Fabrikam Inc|Globex|Initech|Umbrella Health|Stark Logistics|"
    "Wayne Analytics|Acme Retail|Tailspin Toys",
    "|",
)
CITIES = _split("Austin|Berlin|Toronto|London|Remote|Chicago|Warsaw|Bangalore|Lisbon|Denver", "|")
SUBJECTS = (
    "Application for {role} position",
    "Re: {role} opening at {company}",
    "Fwd: Resume - {name} - {role}",
    "{company} | {role} ({city}, contract)",
    "Urgent requirement: {role} in {city}",
    "Interview availability for the {role} role",
    "RE: RE: {role} - updated rate and start date",
    "Weekly digest: 12 new {role} jobs near {city}",
    "Your application to {company} was received",
    "Candidate submission: {name} for {role}",
)
WORDS = _split(
    "the a to of and in for with on our your we you is are be will this that have has from "
    "team role project experience years skills python sql cloud aws azure kubernetes docker "
    "data pipeline backend frontend react api design review interview schedule availability "
    "contract rate hourly remote onsite hybrid client requirement urgent please attached "
    "resume cv profile candidate position opening start date visa location relocation "
    "thanks regards best let me know if any questions call tomorrow next week monday "
    "friday looking forward hearing back delivery agile scrum testing automation ci cd "
    "terraform linux monitoring performance security compliance stakeholders reporting "
    "dashboard analytics spark kafka airflow dbt warehouse migration modernization legacy "
    "system integration microservices java spring go typescript node excellent strong "
    "communication leadership mentoring ownership budget timeline benefits salary negotiable"
)
DEFECTS = (
    "StartBoundaryNotFoundDefect",
    "InvalidDateDefect",
    "UnknownCharsetDefect",
    "MissingHeaderBodySeparatorDefect",
)


def content_hash_of(i: int) -> str:
    """The raw-bytes hash of synthetic message ``i`` (the ledger holds the same value)."""
    return hashlib.sha256(f"persist-bench:{SEED}:{i}".encode()).hexdigest()


def received_at_of(i: int) -> dt.datetime:
    return BASE_TIME + dt.timedelta(seconds=RECEIVED_STEP_SECONDS * i)


def _person(rng: random.Random) -> Address:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    email = f"{first.lower()}.{last.lower()}{rng.randint(1, 999)}@{rng.choice(DOMAINS)}"
    return Address(name=f"{first} {last}" if rng.random() < 0.85 else "", email=email)


def _body(rng: random.Random, sender: Address | None) -> str:
    target = rng.randint(900, 2700)
    lines = [f"Hi {rng.choice(FIRST)},", ""]
    size = sum(len(s) + 1 for s in lines)
    while size < target:
        sentences = []
        for _ in range(rng.randint(2, 5)):
            words = rng.choices(WORDS, k=rng.randint(8, 22))
            sentences.append(" ".join(words).capitalize() + ".")
        paragraph = " ".join(sentences)
        lines += [paragraph, ""]
        size += len(paragraph) + 2
    lines += ["Best regards,", sender.name if sender and sender.name else "The team"]
    return "\n".join(lines)


def synthetic_message(i: int) -> ParsedMessage:
    """Message ``i``: the same every run (its own RNG seeded from SEED and i)."""
    rng = random.Random(SEED * 1_000_003 + i)
    sender = _person(rng) if rng.random() < 0.99 else None
    role, company, city = rng.choice(ROLES), rng.choice(COMPANIES), rng.choice(CITIES)
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    subject = rng.choice(SUBJECTS).format(role=role, company=company, city=city, name=name)
    has_id = rng.random() < 0.98
    message_id = f"<{i:08d}.{rng.getrandbits(48):012x}@{rng.choice(DOMAINS)}>" if has_id else None
    to = tuple(_person(rng) for _ in range(rng.choices((1, 2, 3), (70, 20, 10))[0]))
    cc = tuple(_person(rng) for _ in range(rng.choices((0, 1, 2), (75, 18, 7))[0]))
    sent = received_at_of(i) - dt.timedelta(seconds=rng.randint(1, 600))
    defects = (rng.choice(DEFECTS),) if rng.random() < 0.03 else ()
    return ParsedMessage(
        message_id=message_id,
        subject=subject,
        sender=sender,
        to=to,
        cc=cc,
        date=sent if rng.random() < 0.99 else None,
        in_reply_to=None,
        body_text=_body(rng, sender),
        body_html_present=rng.random() < 0.6,
        defects=defects,
    )


def message_rows(integration_id: int, start: int, stop: int) -> list[dict[str, Any]]:
    """The ``messages`` rows for synthetic messages ``start`` .. ``stop - 1``, built the way
    the mail stream's persist builds them; ledger item ``i + 1`` is message ``i``'s source item."""
    rows = []
    for i in range(start, stop):
        message = synthetic_message(i)
        content_hash = content_hash_of(i)
        rows.append(
            mail_records.message_row(
                integration_id=integration_id,
                item_id=i + 1,
                key=mail_records.message_key(message, content_hash),
                message=message,
                content_hash=content_hash,
                received_at=received_at_of(i),
            )
        )
    return rows


def row_slices(
    integration_id: int, n: int, size: int, start: int = 0
) -> Iterator[list[dict[str, Any]]]:
    """Messages ``start`` .. ``n - 1`` in slices of ``size``, generated lazily (bounded memory)."""
    for lo in range(start, n, size):
        yield message_rows(integration_id, lo, min(lo + size, n))


# ---------------------------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------------------------

SEED_LEDGER = sa.text(
    """
    INSERT INTO ingest_items (id, integration_id, stream, external_id, partition_day,
                              received_at, status, step, attempts, content_hash, run_id,
                              updated_at)
    SELECT g, :integration_id, :stream, 'bench-' || lpad((g - 1)::text, 8, '0'),
           ((:base + (g - 1) * make_interval(secs => :step)) AT TIME ZONE 'UTC')::date,
           :base + (g - 1) * make_interval(secs => :step),
           'processing', 'extracted', 1,
           encode(sha256(convert_to('persist-bench:' || :seed || ':' || (g - 1), 'UTF8')),
                  'hex'),
           'persist-bench', now()
    FROM generate_series(1, :n) AS g
    """
)


def create_database(admin: sa.Engine, admin_url: str, name: str) -> str:
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return (
        sa.make_url(normalize_url(admin_url))
        .set(database=name)
        .render_as_string(hide_password=False)
    )


def drop_database(admin: sa.Engine, url: str, name: str) -> None:
    dispose_engine(url)
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def seed(url: str, n: int) -> int:
    """Migrate, add the integration and one ledger row per message; returns the integration id."""
    upgrade(url)
    with session_scope(url) as session:
        integration = Integration(
            provider="mailbox",
            stream=STREAM,
            name="persist-bench",
            partition_key="mailbox-persist-bench",
            account="/var/mail/persist-bench.mbox",
            task="job_application",
            options={"job_id": 1},
        )
        session.add(integration)
        session.flush()
        integration_id = integration.id
        session.execute(
            SEED_LEDGER,
            {
                "integration_id": integration_id,
                "stream": STREAM,
                "base": BASE_TIME,
                "step": RECEIVED_STEP_SECONDS,
                "seed": str(SEED),
                "n": n,
            },
        )
        session.execute(
            sa.text("SELECT setval(pg_get_serial_sequence('ingest_items', 'id'), :n)"), {"n": n}
        )
    with get_engine(url).connect() as c:
        # Sanity: the ledger's content hashes are the ones the rows carry.
        first = c.execute(sa.text("SELECT content_hash FROM ingest_items WHERE id = 1")).scalar()
        assert first == content_hash_of(0), "ledger seed and row generator disagree"
    analyze(url)
    return integration_id


def analyze(url: str) -> None:
    """ANALYZE and CHECKPOINT (untimed), so each timed pass starts from the same state."""
    with get_engine(url).connect() as c:
        c.execution_options(isolation_level="AUTOCOMMIT")
        c.execute(sa.text("ANALYZE"))
        c.execute(sa.text("CHECKPOINT"))


def truncate_messages(url: str) -> None:
    with get_engine(url).connect() as c:
        c.execute(sa.text("TRUNCATE messages RESTART IDENTITY CASCADE"))
        c.commit()


def digest(url: str) -> tuple[int, str, str]:
    """Row count, an md5 over (message_key, subject) and one over every column but ``id``."""
    with get_engine(url).connect() as c:
        count, key_subject = c.execute(
            sa.text(
                "SELECT count(*), md5(coalesce(string_agg(message_key || chr(31) || subject,"
                " chr(30) ORDER BY message_key), '')) FROM messages"
            )
        ).one()
        full = c.execute(
            sa.text(
                "SELECT md5(coalesce(string_agg(md5(concat_ws(chr(31), integration_id,"
                " message_key, source_item_id, subject, sender_email, sender_name,"
                " recipients::text, sent_at, received_at, body_text, has_html, defects::text,"
                " content_hash)), '' ORDER BY message_key), '')) FROM messages"
            )
        ).scalar_one()
    return int(count), str(key_subject), str(full)


# ---------------------------------------------------------------------------------------------
# The two methods
# ---------------------------------------------------------------------------------------------


@dataclass
class Timing:
    phase: str  # "first load" | "re-run"
    method: str
    batch: str
    rows: int  # rows the figure stands for (all N, also when extrapolated)
    seconds: float
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    timed_rows: int = 0  # rows actually timed (< rows when extrapolated)

    @property
    def extrapolated(self) -> bool:
        return self.timed_rows < self.rows

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")


def run_pipeline(url: str, integration_id: int, n: int, batch: int, phase: str) -> Timing:
    """(a) ``upsert_messages`` per claimed batch, one transaction per batch (as persist)."""
    timing = Timing(phase, "pipeline upsert_messages", str(batch), n, 0.0, timed_rows=n)
    for rows in row_slices(integration_id, n, batch):
        t0 = time.perf_counter()
        with session_scope(url) as session:
            result = mail_records.upsert_messages(session, rows)
        timing.seconds += time.perf_counter() - t0
        timing.inserted += result.inserted
        timing.updated += result.updated
        timing.unchanged += result.unchanged
    return timing


BASELINE_SELECT = sa.text(
    "SELECT id FROM messages WHERE integration_id = :integration_id AND message_key = :message_key"
)
BASELINE_INSERT = sa.text(
    """
    INSERT INTO messages (integration_id, message_key, source_item_id, subject, sender_email,
                          sender_name, recipients, sent_at, received_at, body_text, has_html,
                          defects, content_hash)
    VALUES (:integration_id, :message_key, :source_item_id, :subject, :sender_email,
            :sender_name, CAST(:recipients AS jsonb), :sent_at, :received_at, :body_text,
            :has_html, CAST(:defects AS jsonb), :content_hash)
    """
)
BASELINE_UPDATE = sa.text(
    """
    UPDATE messages
       SET source_item_id = :source_item_id, subject = :subject, sender_email = :sender_email,
           sender_name = :sender_name, recipients = CAST(:recipients AS jsonb),
           sent_at = :sent_at, received_at = :received_at, body_text = :body_text,
           has_html = :has_html, defects = CAST(:defects AS jsonb), content_hash = :content_hash
     WHERE id = :id
    """
)


def run_baseline(
    url: str, integration_id: int, n: int, phase: str, *, sample: int, budget: float
) -> Timing:
    """(b) Row at a time: SELECT the key, INSERT or UPDATE, COMMIT, for every message.

    After ``sample`` rows, if the projected time for all ``n`` exceeds ``budget`` seconds,
    stop there and extrapolate linearly.
    """
    timing = Timing(phase, "baseline row-at-a-time", "1", n, 0.0)
    done = 0
    checked = False
    with get_engine(url).connect() as conn:
        for rows in row_slices(integration_id, n, BASELINE_CHUNK):
            t0 = time.perf_counter()
            for row in rows:
                params = {
                    **row,
                    "recipients": json.dumps(row["recipients"]),
                    "defects": json.dumps(row["defects"]),
                }
                with conn.begin():  # one transaction, committed, per message
                    found = conn.execute(BASELINE_SELECT, params).scalar_one_or_none()
                    if found is None:
                        conn.execute(BASELINE_INSERT, params)
                        timing.inserted += 1
                    else:
                        conn.execute(BASELINE_UPDATE, {**params, "id": found})
                        timing.updated += 1
            timing.seconds += time.perf_counter() - t0
            done += len(rows)
            if not checked and done >= sample and done < n:
                checked = True
                projected = timing.seconds / done * n
                if projected > budget:
                    log(
                        f"  baseline {phase}: {done} rows in {timing.seconds:.1f} s, projected "
                        f"{projected:.0f} s > budget {budget:.0f} s: extrapolating from {done}"
                    )
                    break
    timing.timed_rows = done
    if done < n:
        scale = n / done
        timing.seconds *= scale
        timing.inserted = round(timing.inserted * scale)
        timing.updated = round(timing.updated * scale)
    return timing


def fill_untimed(url: str, integration_id: int, n: int, start: int) -> None:
    """Store messages ``start`` .. ``n - 1`` (untimed) after an extrapolated baseline pass."""
    for rows in row_slices(integration_id, n, 1000, start=start):
        with session_scope(url) as session:
            mail_records.upsert_messages(session, rows)


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------

_T0 = time.perf_counter()


def log(text: str) -> None:
    print(f"[{time.perf_counter() - _T0:7.1f}s] {text}", file=sys.stderr, flush=True)


def server_info(url: str) -> dict[str, str]:
    with get_engine(url).connect() as c:
        names = ("server_version", "synchronous_commit", "fsync", "shared_buffers", "wal_level")
        return {name: str(c.execute(sa.text(f"SHOW {name}")).scalar()) for name in names}


def print_table(timings: list[Timing]) -> None:
    header = (
        f"{'phase':<11} {'method':<26} {'batch':>5} {'rows':>7} {'inserted':>8} {'updated':>8}"
        f" {'unchanged':>9} {'seconds':>9} {'rows/s':>9}"
    )
    print(header)
    print("-" * len(header))
    for t in timings:
        mark = "*" if t.extrapolated else ""
        print(
            f"{t.phase:<11} {t.method:<26} {t.batch:>5} {t.rows:>7} {t.inserted:>8}"
            f" {t.updated:>8} {t.unchanged:>9} {t.seconds:>8.2f}{mark:1} {t.rate:>9.0f}"
        )
    for t in timings:
        if t.extrapolated:
            print(
                f"* {t.phase} {t.method}: timed on the first {t.timed_rows} of {t.rows} messages"
                " and extrapolated linearly (seconds, rows/s and counts are estimates)"
            )


def print_ratios(timings: list[Timing]) -> None:
    print()
    print("ratio = baseline seconds / pipeline seconds (same run, same data)")
    for phase in ("first load", "re-run"):
        base = next(t for t in timings if t.phase == phase and t.method.startswith("baseline"))
        for t in timings:
            if t.phase == phase and t.method.startswith("pipeline"):
                primary = " (the pipeline's batch size)" if t.batch == str(PIPELINE_BATCH) else ""
                mark = " *baseline extrapolated" if base.extrapolated else ""
                print(
                    f"  {phase:<10} batch {t.batch:>4}{primary}: {base.seconds:.2f} s /"
                    f" {t.seconds:.2f} s = {base.seconds / t.seconds:.1f}x{mark}"
                )


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=DEFAULT_MESSAGES)
    parser.add_argument("--url", default=DEFAULT_URL, help="admin URL of the Postgres server")
    parser.add_argument(
        "--baseline-budget",
        type=float,
        default=480.0,
        help="seconds a baseline pass may take before it is sampled and extrapolated",
    )
    parser.add_argument(
        "--sample", type=int, default=10_000, help="rows timed when the baseline is sampled"
    )
    args = parser.parse_args(argv)
    # SIGTERM (e.g. `kill PID`) unwinds like Ctrl-C, so the finally below drops the databases.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    n: int = args.messages
    if n < 1:
        parser.error("--messages must be at least 1")

    admin_url = args.url
    admin = sa.create_engine(normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    tag = uuid.uuid4().hex[:10]
    names = {
        "pipeline": f"persist_bench_{tag}_pipeline",
        "baseline": f"persist_bench_{tag}_baseline",
    }
    urls: dict[str, str] = {}
    try:
        for role, name in names.items():
            urls[role] = create_database(admin, admin_url, name)
            log(f"created database {name}")
        info = server_info(urls["pipeline"])
        load_before = os.getloadavg()
        ids = {}
        for role, url in urls.items():
            ids[role] = seed(url, n)
            log(f"{role}: migrated, seeded 1 integration + {n} ledger rows")
        pipe_url, base_url = urls["pipeline"], urls["baseline"]
        pipe_id, base_id = ids["pipeline"], ids["baseline"]

        timings: list[Timing] = []

        def record(t: Timing) -> None:
            timings.append(t)
            log(f"{t.phase:<10} {t.method:<26} batch {t.batch:>4}: {t.seconds:8.2f} s")

        # First load and re-run, the pipeline's batch size against the baseline.
        record(run_pipeline(pipe_url, pipe_id, n, PIPELINE_BATCH, "first load"))
        base_first = run_baseline(
            base_url, base_id, n, "first load", sample=args.sample, budget=args.baseline_budget
        )
        record(base_first)
        if base_first.extrapolated:
            fill_untimed(base_url, base_id, n, base_first.timed_rows)
            log(f"baseline: stored messages {base_first.timed_rows}..{n - 1} untimed")
        analyze(pipe_url)
        analyze(base_url)
        record(run_pipeline(pipe_url, pipe_id, n, PIPELINE_BATCH, "re-run"))
        record(
            run_baseline(
                base_url, base_id, n, "re-run", sample=args.sample, budget=args.baseline_budget
            )
        )

        # The same for bigger batches (pipeline database emptied before each first load).
        for batch in EXTRA_BATCHES:
            truncate_messages(pipe_url)
            analyze(pipe_url)
            record(run_pipeline(pipe_url, pipe_id, n, batch, "first load"))
            analyze(pipe_url)
            record(run_pipeline(pipe_url, pipe_id, n, batch, "re-run"))

        load_after = os.getloadavg()
        checks = {role: digest(url) for role, url in urls.items()}

        order = {"first load": 0, "re-run": 1}
        timings.sort(key=lambda t: (order[t.phase], t.method.startswith("baseline")))
        print()
        print(f"persist benchmark: {n} synthetic messages (seed {SEED}), one process")
        print(
            f"Python {platform.python_version()}, SQLAlchemy {sa.__version__}, "
            f"psycopg2 {psycopg2.__version__.split()[0]}, PostgreSQL {info['server_version']} "
            f"(synchronous_commit={info['synchronous_commit']}, fsync={info['fsync']}, "
            f"shared_buffers={info['shared_buffers']}), {os.cpu_count()} CPUs, "
            f"upsert chunk {UPSERT_CHUNK}"
        )
        print(
            "load average (1/5/15 min) at start "
            + "/".join(f"{x:.2f}" for x in load_before)
            + ", at end "
            + "/".join(f"{x:.2f}" for x in load_after)
            + " (other work on the machine skews the timings)"
        )
        print()
        print_table(timings)
        print_ratios(timings)
        print()
        pipe_check, base_check = checks["pipeline"], checks["baseline"]
        ok_count = pipe_check[0] == n and base_check[0] == n
        ok_key = pipe_check[1] == base_check[1]
        ok_full = pipe_check[2] == base_check[2]
        print("verification:")
        print(
            f"  messages: pipeline db {pipe_check[0]}, baseline db {base_check[0]}, expected {n}"
            f" -> {'OK' if ok_count else 'MISMATCH'}"
        )
        print(
            f"  (message_key, subject) md5: {pipe_check[1]} vs {base_check[1]}"
            f" -> {'identical' if ok_key else 'DIFFERENT'}"
        )
        print(
            f"  all columns but id md5:     {pipe_check[2]} vs {base_check[2]}"
            f" -> {'identical' if ok_full else 'DIFFERENT'}"
        )
        if base_first.extrapolated:
            print(
                f"  (baseline db: messages {base_first.timed_rows}..{n - 1} were stored untimed"
                " with upsert_messages after the sampled first load)"
            )
        return 0 if ok_count and ok_key and ok_full else 1
    finally:
        for role, url in urls.items():
            try:
                drop_database(admin, url, names[role])
                log(f"dropped database {names[role]}")
            except Exception as exc:  # keep dropping the other one
                log(f"could not drop {names[role]}: {exc}")
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
