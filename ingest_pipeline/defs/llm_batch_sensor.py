"""The sensor that collects finished OpenAI batches and finishes their partitions."""

import dagster as dg

from ingest_pipeline.defs.ingest_assets import AssetJob
from ingest_pipeline.defs.ingest_ops import LLM_BATCH_TAG
from ingest_pipeline.defs.partitions import IngestPartition
from ingest_pipeline.defs.resources import AppDatabaseResource, ExtractorResource
from ingest_pipeline.extraction.tasks import get_task
from ingest_pipeline.store import extraction_cache, llm_batches
from ingest_pipeline.store.database import session_scope
from ingest_pipeline.store.models import Integration


def llm_batches_sensor(job: AssetJob, minimum_interval_seconds: int = 60) -> dg.SensorDefinition:
    """Collects finished batches of ``job``'s stream (the one with LLM tasks: mail)."""
    return dg.sensor(
        name="llm_batches_sensor",
        job=job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Stores finished OpenAI batch results and re-runs their partitions.",
    )(collect_finished_batches)


def collect_finished_batches(
    context: dg.SensorEvaluationContext,
    app_db: AppDatabaseResource,
    extractor: ExtractorResource,
) -> dg.SensorResult | dg.SkipReason:
    """Completed batches: results into the cache, then a run that persists them. Failed or
    expired ones: a run that extracts directly. Either run is tagged to skip batch mode."""
    url = app_db.database_url()
    with session_scope(url) as session:
        waiting = [
            (b.id, b.provider_batch_id, b.task, dict(b.requests))
            for b in llm_batches.open_batches(session)
        ]
    if not waiting:
        return dg.SkipReason("no OpenAI batch is waiting")
    # Imported here: the openai client is needed only when batches are waiting, not each
    # time the code location loads.
    from ingest_pipeline.extraction.openai_batch import collect_batch
    from ingest_pipeline.extraction.openai_extractor import OpenAIExtractor

    client = extractor.build()
    if not isinstance(client, OpenAIExtractor):
        return dg.SkipReason("batches are waiting but the extractor is not OpenAI")
    requests: list[dg.RunRequest] = []
    for row_id, batch_id, task_name, mapping in waiting:
        task = get_task(task_name)
        results = collect_batch(client, task, batch_id, mapping)
        if results.status not in ("completed", "failed", "expired", "cancelled"):
            continue
        with session_scope(url) as session:
            batch = session.get(llm_batches.LlmBatch, row_id)
            assert batch is not None
            for digest, outcome in results.outcomes.items():
                extraction_cache.save(
                    session,
                    content_hash=digest,
                    task=task.name,
                    outcome=outcome,
                    integration_id=batch.integration_id,
                )
            failed = results.status != "completed"
            note = (
                results.message
                if failed
                else (
                    f"{len(results.errors)} request(s) failed in the batch; extracted directly"
                    if results.errors
                    else None
                )
            )
            llm_batches.finish(
                session, batch, status="fallback" if failed else "collected", error=note
            )
            integration = session.get(Integration, batch.integration_id)
            assert integration is not None
            key, active, day = (
                integration.partition_key,
                integration.status == "active",
                batch.partition_day,
            )
        if not active:
            context.log.info(f"OpenAI batch {batch_id} {results.status}; {key} is not active")
            continue
        context.log.info(f"OpenAI batch {batch_id} {results.status}; re-running {key} {day}")
        requests.append(
            dg.RunRequest(
                partition_key=IngestPartition(key or "", day).key,
                run_key=f"llm-batch:{batch_id}",
                tags={LLM_BATCH_TAG: "off", "ingest/trigger": f"llm-batch-{results.status}"},
            )
        )
    return dg.SensorResult(run_requests=requests)
