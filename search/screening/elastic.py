"""Screening jobs in Elasticsearch: ``<prefix>-screenings`` (headers) and ``<prefix>-screening-chunks``
(rows and results), mappings in ``mappings/``.

Elasticsearch has no multi-document transactions, so each state change is one document write: a
chunk's output carries its own counts (a running job's progress is their sum), and changes to a job
header use optimistic concurrency (``if_seq_no``/``if_primary_term``), so two runners never both
claim a job and a cancel is never overwritten by a lease renewal. Chunks are read by id (real-time
GET), never by search, so a freshly written output is seen at once without a refresh.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar

from elasticsearch import ConflictError, NotFoundError
from elasticsearch.helpers import streaming_bulk

from search.clock import stamp
from search.screening.jobs import ACTIVE, Job, JobList, Turn, count_output, decode_rows, encode_rows
from search.screening.watchlist import Output, Rows
from search.storage.elastic_client import ElasticIndexes, unavailable

BATCH = 20  # chunk documents fetched per mget when walking a job


class ElasticsearchJobs(ElasticIndexes):
    """Screening jobs and chunks in two Elasticsearch indexes."""

    INDEXES: ClassVar[dict[str, str]] = {"screenings": "screenings", "screening-chunks": "screening-chunks"}

    @property
    def jobs_index(self) -> str:
        return self.index("screenings")

    @property
    def chunks_index(self) -> str:
        return self.index("screening-chunks")

    def _fetch(self, job_id: str) -> tuple[Job, int, int] | None:
        """The job header with its sequence number and primary term (for a conditional write)."""
        self._ensure()
        with unavailable():
            try:
                resp = self.es.get(index=self.jobs_index, id=job_id)
            except NotFoundError:
                return None
        return Job(**resp["_source"]), int(resp["_seq_no"]), int(resp["_primary_term"])

    def _update(self, job_id: str, change: Any) -> Job | None:
        """Apply ``change(job) -> bool`` and write it if it returns True, retrying on a conflict."""
        for _ in range(10):
            found = self._fetch(job_id)
            if found is None:
                return None
            job, seq, term = found
            if not change(job):
                return None
            try:
                with unavailable():
                    self.es.index(
                        index=self.jobs_index,
                        id=job_id,
                        document=job.to_doc(),
                        if_seq_no=seq,
                        if_primary_term=term,
                    )
                return job
            except ConflictError:
                continue
        return None

    def create(self, job: Job, chunks: Iterator[Rows]) -> None:
        self._ensure()
        actions = (
            {
                "_op_type": "index",
                "_index": self.chunks_index,
                "_id": f"{job.job_id}:{n}",
                "_source": {"job_id": job.job_id, "n": n, "input": json.dumps(encode_rows(rows)), "done": False},
            }
            for n, rows in enumerate(chunks)
        )
        with unavailable():
            for _ in streaming_bulk(self.es, actions, chunk_size=50, raise_on_error=True):
                pass
            # The header last: a job becomes visible (and claimable) only once all its rows are stored.
            self.es.index(index=self.jobs_index, id=job.job_id, document=job.to_doc())

    def get(self, job_id: str) -> Job | None:
        found = self._fetch(job_id)
        if found is None:
            return None
        job = found[0]
        if job.status in ACTIVE or job.status == "cancelled":
            self._add_progress(job)
        return job

    def _add_progress(self, job: Job) -> None:
        """A job's progress: the sums of its done chunks' counts, read by id (real time: a chunk's
        output counts the moment it is written, with no refresh to wait for)."""
        job.done = job.seen = job.rejected = 0
        job.seconds = 0.0
        for src in self._chunks(job.job_id, 0, ("done", "rows", "seen", "rejected", "seconds")):
            if src.get("done"):
                job.done += int(src["rows"])
                job.seen += int(src["seen"])
                job.rejected += int(src["rejected"])
                job.seconds += float(src["seconds"])

    def list(self, office: str, limit: int = 100) -> list[Job]:
        self._ensure()
        with unavailable():
            self.es.indices.refresh(index=self.jobs_index)  # a job submitted a moment ago is listed
            resp = self.es.search(
                index=self.jobs_index,
                query={"term": {"office": {"value": office}}},
                size=limit,
                sort=[{"created_at": {"order": "desc"}}, {"job_id": {"order": "asc"}}],
            )
        return [Job(**h["_source"]) for h in resp["hits"]["hits"]]

    def claim(self, owner: str, lease_seconds: float, now: float, turn: Turn | None = None) -> Job | None:
        def take(job: Job) -> bool:
            if job.status not in ACTIVE or (job.lease_owner not in (None, owner) and job.lease_until > now):
                return False
            job.status, job.lease_owner, job.lease_until = "running", owner, now + lease_seconds
            job.started_at = job.started_at or stamp(now)
            return True

        found = self.active()
        ranked = sorted(found, key=turn) if turn is not None else found  # stable: oldest first among equals
        for candidate in ranked:
            job = self._update(candidate.job_id, take)
            if job is not None:
                return job
        return None

    def release(self, job_id: str, owner: str) -> None:
        def give_back(job: Job) -> bool:
            if job.status != "running" or job.lease_owner != owner:
                return False
            job.status, job.lease_owner, job.lease_until = "queued", None, 0.0
            return True

        self._update(job_id, give_back)

    def active(self) -> JobList:
        self._ensure()
        with unavailable():
            self.es.indices.refresh(index=self.jobs_index)  # see jobs submitted by any server
            resp = self.es.search(
                index=self.jobs_index,
                query={"terms": {"status": list(ACTIVE)}},
                size=1000,
                sort=[{"created_at": {"order": "asc"}}, {"job_id": {"order": "asc"}}],
            )
        return [Job(**h["_source"]) for h in resp["hits"]["hits"]]

    def renew(self, job: Job, owner: str, lease_seconds: float, now: float) -> bool:
        def extend(current: Job) -> bool:
            if current.status != "running" or current.lease_owner != owner:
                return False
            current.lease_until = now + lease_seconds
            return True

        return self._update(job.job_id, extend) is not None

    def _chunks(self, job_id: str, start: int, fields: tuple[str, ...]) -> Iterator[dict[str, Any]]:
        """Chunk documents from ``start`` on (only ``fields`` of each), in order, until the first
        missing one. Finding the next pending chunk reads ``n`` and ``done`` only: a done chunk's
        output is a few hundred kilobytes that the runner must not fetch again for every chunk."""
        self._ensure()
        n = start
        while True:
            ids = [f"{job_id}:{i}" for i in range(n, n + BATCH)]
            with unavailable():
                docs = self.es.mget(index=self.chunks_index, ids=ids, source_includes=list(fields))["docs"]
            if len(docs) < len(ids):
                return  # Elasticsearch answers every id (found or not); a short answer ends the walk
            for doc in docs:
                if not doc.get("found"):
                    return
                yield doc["_source"]
            n += BATCH

    def pending_chunk(self, job_id: str, start: int = 0) -> tuple[int, Rows] | None:
        for src in self._chunks(job_id, start, ("n", "done")):
            if not src.get("done"):
                n = int(src["n"])
                with unavailable():
                    doc = self.es.get(index=self.chunks_index, id=f"{job_id}:{n}", source_includes=["input"])
                return n, decode_rows(json.loads(doc["_source"]["input"]))
        return None

    def save_output(self, job: Job, chunk: int, output: Output, seconds: float) -> None:
        seen, bad = count_output(output)
        doc = {"output": json.dumps(output, ensure_ascii=False), "done": True, "rows": len(output)}
        doc |= {"seen": seen, "rejected": bad, "seconds": seconds}
        with unavailable():
            self.es.update(index=self.chunks_index, id=f"{job.job_id}:{chunk}", doc=doc)
        job.done += len(output)
        job.seen += seen
        job.rejected += bad
        job.seconds += seconds

    def finish(self, job_id: str, status: str, at: str, error: str | None = None) -> None:
        def end(job: Job) -> bool:
            if job.status not in ACTIVE:
                return False
            job.status, job.finished_at, job.error, job.lease_owner = status, at, error, None
            return True

        found = self._fetch(job_id)
        if found is None:
            return
        totals = found[0]
        self._add_progress(totals)

        def end_with_counts(job: Job) -> bool:
            job.done, job.seen, job.rejected, job.seconds = totals.done, totals.seen, totals.rejected, totals.seconds
            return end(job)

        self._update(job_id, end_with_counts)

    def cancel(self, job_id: str, at: str) -> bool:
        def stop(job: Job) -> bool:
            if job.status not in ACTIVE:
                return False
            job.status, job.finished_at, job.lease_owner = "cancelled", at, None
            return True

        return self._update(job_id, stop) is not None

    def outputs(self, job_id: str) -> Iterator[Output]:
        for src in self._chunks(job_id, 0, ("done", "output")):
            if not src.get("done"):
                return
            yield [(int(line), name, result) for line, name, result in json.loads(src["output"])]
