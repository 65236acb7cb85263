"""Benchmark: exact vector search over 10,000 and 100,000 stored vectors of one tenant, and
embedding throughput through the models registry at 200 ms per request, in one run.

Run by hand from the project root (no timing assertions; see bench/README.md)::

    .venv/bin/python bench/search_embeddings_bench.py [--sizes 10000,100000] [--dims 512]
        [--queries 200] [--baseline-queries 5] [--texts 5000] [--baseline-texts 50]
        [--latency 0.2] [--database-url URL]

(1) search: for each size N, N synthetic unit vectors (numpy normal, seeded, normalised) are
stored as `EmbeddingVector` + `EmbeddingRow` rows of one tenant (core executemany in
chunks, untimed) in a migrated database: a temporary SQLite file unless ``--database-url``
names one (Postgres: it is migrated, and the bench's rows are deleted at the end). Timed:
``VectorIndex.load``, ``search`` (load + nearest + labels, what one CLI call does), and
``nearest(query, k=10)`` over ``--queries`` random unit queries; the baseline is a
pure-Python loop (``sum(map(mul, row, query))`` over every stored row as an ``array('f')``,
then ``heapq.nlargest``) for the first ``--baseline-queries`` of the same queries, whose
top 10 must equal ``nearest``'s.

(2) embeddings: `OpenAIEmbedder` built from the registry's ``text-embedding-3-small`` entry
(its ``api_model``; ``base_url`` pointed at the tests' `FakeOpenAI`, with
``latency_seconds`` per accepted request and the entry's RPM as the fake's limit) embeds
``--texts`` short job-posting sentences: the baseline one text per request (on
``--baseline-texts`` of them), then batches of 256 one at a time, then batches of 256 four
at a time (the defaults), and the offline `LexicalEmbedder` on the same texts.

The exit status is 0 only when every check passes (same top 10, same vectors).
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import mul
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # ingest_pipeline_tests is not installed into the venv

import numpy as np  # noqa: E402
import openai  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from ingest_pipeline.derived.embedding_texts import MESSAGE  # noqa: E402
from ingest_pipeline.derived.embeddings import vector_bytes  # noqa: E402
from ingest_pipeline.derived.vector_search import VectorIndex, search  # noqa: E402
from ingest_pipeline.extraction.embedders import (  # noqa: E402
    EmbeddingModel,
    LexicalEmbedder,
    OpenAIEmbedder,
    Vector,
)
from ingest_pipeline.extraction.models_registry import get_model, load_registry  # noqa: E402
from ingest_pipeline.store.database import dispose_engine, get_engine, session_scope  # noqa: E402
from ingest_pipeline.store.migrate import upgrade  # noqa: E402
from ingest_pipeline.store.models import EmbeddingRow, EmbeddingVector  # noqa: E402
from ingest_pipeline_tests.fakes.openai_embeddings import EmbeddingStats  # noqa: E402
from ingest_pipeline_tests.fakes.openai_server import FakeOpenAI, RateLimit  # noqa: E402

SEED = 20261102
K = 10
CHUNK = 5_000  # rows per executemany / transaction when storing vectors
LOAD_REPEATS = 3
EMBEDDING_MODEL = "text-embedding-3-small"
API_KEY = "bench"
BATCH_SIZE, CONCURRENCY = 256, 4  # Settings.embedding_batch_size / embedding_concurrency

TITLES = ["Data Engineer", "Backend Developer", "Analytics Engineer", "Platform Engineer"]
TITLES += ["ML Engineer", "Site Reliability Engineer", "Frontend Developer", "Data Scientist"]
LEVELS = ["Junior", "Mid-level", "Senior", "Lead", "Staff", "Principal"]
COMPANIES = ["Acme Analytics", "Northwind Logistics", "Globex Health", "Initech Payments"]
COMPANIES += ["Umbrella Retail", "Hooli Cloud", "Stark Mobility", "Wayne Energy"]
PLACES = ["remote (EU)", "Berlin", "London, hybrid", "Lisbon", "Amsterdam", "Warsaw, remote"]
SKILLS = ["Python", "SQL", "dbt", "Dagster", "Spark", "Kafka", "Kubernetes", "AWS", "Postgres"]
SKILLS += ["Terraform", "React", "TypeScript", "Go", "Airflow", "Snowflake", "PyTorch"]
TERMS = ["6-month contract", "permanent role", "12-month contract", "freelance, 3 days a week"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ms(seconds: float) -> float:
    return seconds * 1000.0


# -- search --------------------------------------------------------------------------------


def unit_vectors(rng: np.random.Generator, count: int, dims: int) -> np.ndarray:
    vectors = rng.standard_normal((count, dims), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def store_vectors(url: str, tenant: str, model: str, count: int, dims: int) -> float:
    """``count`` random unit vectors as EmbeddingVector + EmbeddingRow rows of ``tenant``
    (kind ``message``, ref ids 1..count), one transaction per CHUNK rows; returns seconds."""
    rng = np.random.default_rng(SEED + count)
    vector_table, row_table = EmbeddingVector.__table__, EmbeddingRow.__table__
    engine = get_engine(url)
    started = time.perf_counter()
    for start in range(0, count, CHUNK):
        chunk = unit_vectors(rng, min(CHUNK, count - start), dims)
        hashes = [
            hashlib.sha256(f"{tenant} {start + i}".encode()).hexdigest() for i in range(len(chunk))
        ]
        with engine.begin() as connection:
            connection.execute(
                vector_table.insert(),
                [
                    {"content_hash": h, "model": model, "dims": dims, "vector": vector_bytes(v)}
                    for h, v in zip(hashes, chunk, strict=True)
                ],
            )
            connection.execute(
                row_table.insert(),
                [
                    {
                        "tenant_id": tenant,
                        "kind": MESSAGE,
                        "ref_id": start + i + 1,
                        "model": model,
                        "content_hash": h,
                    }
                    for i, h in enumerate(hashes)
                ],
            )
    return time.perf_counter() - started


def python_top_k(rows: Sequence[array], ref_ids: Sequence[int], query: list[float]) -> list[int]:
    """The baseline: every dot product in a Python loop, then the k best ref ids."""
    scores = [sum(map(mul, row, query)) for row in rows]
    best = heapq.nlargest(K, range(len(scores)), key=scores.__getitem__)
    return [ref_ids[i] for i in best]


@dataclass
class SearchRow:
    vectors: int
    store_s: float
    load_ms: float
    search_ms: float
    nearest_p50: float
    nearest_p95: float
    python_ms: float
    python_queries: int
    same: bool

    @property
    def speedup(self) -> float:
        return self.python_ms / self.nearest_p50


def timed(call: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def search_size(url: str, run: str, count: int, args: argparse.Namespace) -> SearchRow:
    tenant, model = f"bench-search-{run}-{count}", f"bench-random-{run}@{args.dims}"
    log(f"[search {count:,}] storing {count:,} vectors of {args.dims} dims ...")
    store_s = store_vectors(url, tenant, model, count, args.dims)
    if url.startswith("sqlite"):
        with get_engine(url).begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    else:
        with get_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("ANALYZE embeddings")
            c.exec_driver_sql("ANALYZE embedding_vectors")
    log(f"[search {count:,}] stored in {store_s:.1f} s; timing VectorIndex.load ...")

    loads, index = [], None
    for _ in range(LOAD_REPEATS):
        with session_scope(url) as session:
            seconds, index = timed(lambda s=session: VectorIndex.load(s, tenant, model))
        loads.append(seconds)
    assert isinstance(index, VectorIndex) and len(index) == count, "the index misses vectors"

    queries = unit_vectors(np.random.default_rng(SEED - count), args.queries, args.dims)
    searches = []
    for query in queries[:LOAD_REPEATS]:
        with session_scope(url) as session:
            seconds, hits = timed(lambda s=session, q=query: search(s, tenant, model, q, k=K))
        searches.append(seconds)
        assert len(hits) == K  # type: ignore[arg-type]

    log(f"[search {count:,}] nearest x {args.queries} ...")
    nearest_s, nearest_ids = [], []
    for query in queries:
        seconds, hits = timed(lambda q=query: index.nearest(q, k=K))
        nearest_s.append(seconds)
        nearest_ids.append([h.ref_id for h in hits])  # type: ignore[attr-defined]

    log(f"[search {count:,}] pure-Python loop x {args.baseline_queries} ...")
    rows = [array("f", vector.tobytes()) for vector in index.matrix]  # untimed
    ref_ids = index.ref_ids.tolist()
    python_s, same = [], True
    for i, query in enumerate(queries[: args.baseline_queries]):
        values = query.tolist()
        started = time.perf_counter()
        ids = python_top_k(rows, ref_ids, values)
        python_s.append(time.perf_counter() - started)
        same = same and ids == nearest_ids[i]
    return SearchRow(
        vectors=count,
        store_s=store_s,
        load_ms=ms(statistics.median(loads)),
        search_ms=ms(statistics.median(searches)),
        nearest_p50=ms(float(np.percentile(nearest_s, 50))),
        nearest_p95=ms(float(np.percentile(nearest_s, 95))),
        python_ms=ms(statistics.median(python_s)),
        python_queries=len(python_s),
        same=same,
    )


def delete_bench_rows(url: str, run: str) -> None:
    """Remove what this run stored (a database the bench did not create)."""
    with get_engine(url).begin() as connection:
        connection.execute(
            sa.delete(EmbeddingRow.__table__).where(
                EmbeddingRow.__table__.c.model.like(f"bench-random-{run}@%")
            )
        )
        connection.execute(
            sa.delete(EmbeddingVector.__table__).where(
                EmbeddingVector.__table__.c.model.like(f"bench-random-{run}@%")
            )
        )


# -- embeddings ----------------------------------------------------------------------------


def job_texts(count: int) -> list[str]:
    """``count`` distinct short job-posting sentences (about 20-30 tokens each)."""
    rng = random.Random(SEED)
    texts = []
    for i in range(count):
        skills = rng.sample(SKILLS, 3)
        texts.append(
            f"{rng.choice(LEVELS)} {rng.choice(TITLES)} at {rng.choice(COMPANIES)}, "
            f"{rng.choice(PLACES)}: {skills[0]}, {skills[1]} and {skills[2]}; "
            f"{rng.choice(TERMS)}, ref {SEED % 1000}-{i}."
        )
    return texts


@dataclass
class EmbedRow:
    label: str
    batch: str
    concurrency: str
    texts: int
    requests: int | None
    seconds: float

    @property
    def rate(self) -> float:
        return self.texts / self.seconds


def embed_runs(
    texts: list[str], args: argparse.Namespace
) -> tuple[list[EmbedRow], bool, EmbeddingStats, str]:
    spec = get_model(EMBEDDING_MODEL, load_registry())
    limits = {"*": RateLimit(rpm=spec.rpm, tpm=spec.tpm)} if spec.rpm or spec.tpm else None
    rows: list[EmbedRow] = []
    results: list[list[Vector]] = []
    total = EmbeddingStats()
    with FakeOpenAI(latency_seconds=args.latency, limits=limits) as fake:
        model = EmbeddingModel(
            name=spec.name,
            api_model=spec.api_model,
            base_url=fake.base_url,
            api_key=API_KEY,
            dimensions=args.dims,
        )
        OpenAIEmbedder(model).embed(["warm-up"])  # imports and first connection, untimed
        plans = [
            ("baseline, one text per request", 1, 1, texts[: args.baseline_texts]),
            ("batched, one request at a time", BATCH_SIZE, 1, texts),
            ("batched + concurrent (defaults)", BATCH_SIZE, CONCURRENCY, texts),
        ]
        for label, batch_size, concurrency, sample in plans:
            log(f"[embed] {label}: {len(sample):,} texts ...")
            embedder = OpenAIEmbedder(model, batch_size=batch_size, concurrency=concurrency)
            fake.embedding_stats = EmbeddingStats()
            seconds, vectors = timed(lambda e=embedder, s=sample: e.embed(s))
            stats = fake.embedding_stats
            rows.append(
                EmbedRow(
                    label, str(batch_size), str(concurrency), len(sample), stats.calls, seconds
                )
            )
            results.append(vectors)  # type: ignore[arg-type]
            total.calls += stats.calls
            total.inputs += stats.inputs
            total.rate_limited.update(stats.rate_limited)
        server_errors = len(fake.server_errors)
    lexical = LexicalEmbedder(args.dims)
    log(f"[embed] offline LexicalEmbedder: {len(texts):,} texts ...")
    seconds, _ = timed(lambda: lexical.embed(texts))
    rows.append(EmbedRow(lexical.label, "-", "-", len(texts), None, seconds))

    baseline, batched, concurrent = results
    same = (
        server_errors == 0
        and len(batched) == len(concurrent) == len(texts)
        and all(np.array_equal(a, b) for a, b in zip(batched, concurrent, strict=True))
        and all(np.array_equal(a, b) for a, b in zip(baseline, batched, strict=False))
        and all(v.shape == (args.dims,) for v in concurrent)
    )
    limit = f"rpm {spec.rpm}" if spec.rpm else "none"
    return rows, same, total, limit


# -- report --------------------------------------------------------------------------------


def database_version(url: str) -> str:
    if url.startswith("sqlite"):
        return f"SQLite {sqlite3.sqlite_version}"
    with get_engine(url).connect() as connection:
        return f"PostgreSQL {connection.exec_driver_sql('SHOW server_version').scalar()}"


def print_search(rows: list[SearchRow]) -> None:
    print(
        f"{'vectors':>9} {'store s':>8} {'load ms':>8} {'search ms':>9} {'p50 ms':>7} "
        f"{'p95 ms':>7} {'python ms':>10} {'(n)':>4} {'speed-up':>9} {'same top-10':>11}"
    )
    print("-" * 92)
    for r in rows:
        print(
            f"{r.vectors:>9,} {r.store_s:>8.1f} {r.load_ms:>8.0f} {r.search_ms:>9.0f} "
            f"{r.nearest_p50:>7.2f} {r.nearest_p95:>7.2f} {r.python_ms:>10.0f} "
            f"{r.python_queries:>4} {r.speedup:>8.0f}x {'yes' if r.same else 'no':>11}"
        )


def print_embeddings(rows: list[EmbedRow]) -> None:
    base = rows[0].rate
    print(
        f"{'method':<42} {'batch':>5} {'conc':>4} {'texts':>6} {'requests':>8} "
        f"{'seconds':>8} {'texts/s':>9} {'vs baseline':>11}"
    )
    print("-" * 100)
    for r in rows:
        requests = "-" if r.requests is None else str(r.requests)
        print(
            f"{r.label:<42} {r.batch:>5} {r.concurrency:>4} {r.texts:>6} {requests:>8} "
            f"{r.seconds:>8.2f} {r.rate:>9.1f} {r.rate / base:>10.1f}x"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="stored vectors (10000,100000)")
    parser.add_argument("--dims", type=int, default=512, help="vector length (512; try 1536)")
    parser.add_argument("--queries", type=int, default=200, help="nearest queries timed (200)")
    parser.add_argument(
        "--baseline-queries", type=int, default=5, help="pure-Python queries per size (5)"
    )
    parser.add_argument("--texts", type=int, default=5000, help="texts to embed (5000)")
    parser.add_argument(
        "--baseline-texts", type=int, default=50, help="texts for one per request (50)"
    )
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per request (0.2)")
    parser.add_argument(
        "--database-url", help="an existing database (migrated; the bench's rows are deleted)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.baseline_queries = max(1, min(args.baseline_queries, args.queries))

    run = uuid.uuid4().hex[:8]
    folder = None
    if args.database_url:
        url = args.database_url
    else:
        folder = Path(tempfile.mkdtemp(prefix="search-bench-"))
        url = f"sqlite:///{folder / 'bench.db'}"
    started = time.perf_counter()
    load_start = os.getloadavg()
    try:
        upgrade(url)
        version = database_version(url)
        search_rows = [search_size(url, run, n, args) for n in sizes]
        db_mb = (folder / "bench.db").stat().st_size / 1e6 if folder else None
    finally:
        if folder is None:
            delete_bench_rows(url, run)
        dispose_engine(url)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    texts = job_texts(args.texts)
    embed_rows, same_vectors, stats, limit = embed_runs(texts, args)
    load_end = os.getloadavg()

    print(
        f"search + embeddings benchmark: {args.dims} dims, k={K}, seed {SEED}; "
        f"{version}{f' (temporary file, {db_mb:.0f} MB at the end)' if db_mb else ''}"
    )
    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, SQLAlchemy "
        f"{sa.__version__}, openai {openai.__version__}, {os.cpu_count()} CPUs, load average "
        f"{'/'.join(f'{x:.2f}' for x in load_start)} at start, "
        f"{'/'.join(f'{x:.2f}' for x in load_end)} at end\n"
    )
    print("(1) exact search over one tenant's stored vectors (random unit vectors, kind message)")
    print_search(search_rows)
    print(
        f"\nstore s: untimed set-up (executemany, {CHUNK:,} rows per transaction); load ms: "
        f"VectorIndex.load, median of {LOAD_REPEATS};\nsearch ms: search() = load + nearest + "
        f"labels, median of {LOAD_REPEATS}; p50/p95 ms: index.nearest(query, k={K}) over "
        f"{args.queries} random queries;\npython ms: median of (n) queries as a pure-Python loop "
        "(sum(map(mul, row, query)) over array('f') rows + heapq.nlargest);\nspeed-up: python "
        f"ms / nearest p50; same top-10: nearest's {K} ref ids, in order, equal the loop's for "
        "those queries\n"
    )
    texts_tokens = statistics.mean(len(t.split()) for t in texts)
    print(
        f"(2) embedding throughput through the registry: {EMBEDDING_MODEL} -> FakeOpenAI, "
        f"{args.latency * 1000:.0f} ms per request, limit {limit}, dimensions={args.dims}; "
        f"{len(texts):,} job-posting sentences (mean {texts_tokens:.0f} words)"
    )
    print_embeddings(embed_rows)
    print(
        f"\nrequests: POST /v1/embeddings the fake answered ({stats.calls} in all, "
        f"{sum(stats.rate_limited.values())} refused by the limit); vs baseline: texts/s "
        "divided by the one-text-per-request rate (measured on its sample, same run)"
    )
    print(
        "vectors identical across the three registry runs (and in the baseline's sample): "
        f"{'yes' if same_vectors else 'no'}"
    )
    same_results = all(r.same for r in search_rows)
    print(f"same results (nearest top-10 = pure-Python top-10): {'yes' if same_results else 'no'}")
    print(f"wall time: {time.perf_counter() - started:.0f} s")
    return 0 if same_results and same_vectors else 1


if __name__ == "__main__":
    sys.exit(main())
