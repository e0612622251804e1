"""Opening the screening-job store of the configured backend."""

from __future__ import annotations

from search.screening.jobs import JobStore
from search.screening.sqlite import SQLiteJobs
from search.settings import Settings


def open_jobs(settings: Settings) -> JobStore:
    """Screening jobs, in the same backend as the records."""
    if settings.es_url:
        # Imported only for a cluster: the client library costs 0.4 s of start-up (-X importtime)
        # that SQLite users and every `--help` would pay (issue #15: commands start in < 0.5 s).
        from search.screening.elastic import ElasticsearchJobs

        return ElasticsearchJobs(settings.es_url, settings.es_index_prefix, timeout=settings.es_timeout)
    return SQLiteJobs(settings.store)
