"""The question itself over HTTP: ``POST /match``, one record with its matches, counts, health.

Matching is CPU-bound Python: a single query is matched on the event loop, a batch in the thread
pool; with Elasticsearch the cluster round trip for the candidates is awaited on the event loop
(one msearch for a batch) and the audit entry is written from the pool.
"""

from __future__ import annotations

import time
from typing import Any

import pydantic_core
from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from starlette.background import BackgroundTask
from starlette.responses import Response

from api.http.deps import MatchCaller, Reader, StateDep, StatsReader
from api.http.models import ErrorResponse, MatchOut, MatchRequest, MatchResponse, RecordResponse
from api.http.state import State
from search.errors import InvalidInput, NotFound, PayloadTooLarge, StoreUnavailable
from search.matching.query import Query
from search.matching.results import Result
from search.storage.base import doc_id
from search.uploads import give_back_memory

router = APIRouter()
# A request of this many queries is matched on the event loop itself, not in the thread pool
# (with Elasticsearch the cluster's round trips are still awaited or in the pool). Matching holds
# the GIL either way, so the pool bought no parallelism, only a hop (~0.25 ms) and contention:
# under 8 connections one process spent 4.81 ms of CPU a query with its request threads taking
# turns, 2.88 ms matching inline (238 → 343 queries/s; single p50 3.02–3.17 → 2.89 ms;
# bench/realistic.py, the million). A batch still goes to the pool: it can take seconds, and the
# loop must go on accepting meanwhile.
INLINE_QUERIES = 1
# After a batch this large, the heap's free pages go back to the system (after the response).
LARGE_BATCH = 100


@router.post(
    "/match",
    tags=["matching"],
    response_model=MatchResponse,
    summary="Check a batch of names against every partner office",
)
async def match(body: MatchRequest, state: StateDep, who: MatchCaller) -> Response:
    """For each query, the records the scorer judges to be the same entity, best first, each
    with its explanation; plus, per office, how many queries it has seen."""
    if len(body.queries) > state.settings.max_batch:
        raise PayloadTooLarge(
            f"{len(body.queries)} queries; at most {state.settings.max_batch} per request", field="queries"
        )
    # The request paid one token at authentication; a batch pays for every further query (a
    # 1,000-query batch cost the same as one, issue #18).
    if len(body.queries) > 1:
        state.limiter.take(who.key_id, len(body.queries) - 1)
    t0 = time.perf_counter()
    queries = [Query(q.name, q.entity_type, q.query_id, q.id_number, q.birth_date, q.gender) for q in body.queries]
    terms = [t for q in body.queries for t in (q.name, q.id_number) if t]

    def answered(results: list[Result]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The response and its audit detail."""
        out = respond(state, results)
        return out, {"offices": body.offices, "results": out.pop("audit")}

    def answer(results: list[Result]) -> dict[str, Any]:
        """The response, audited (in the same thread hop as the matching: each hop cost ~0.3 ms)."""
        out, detail = answered(results)
        state.audit(who, "match", terms, detail)
        return out

    try:
        if state.async_es is None and len(queries) <= INLINE_QUERIES:
            out = answer(state.matcher.match_many(queries, body.offices, body.limit))
        elif state.async_es is None:
            out = await run_in_threadpool(lambda: answer(state.matcher.match_many(queries, body.offices, body.limit)))
        elif len(queries) <= INLINE_QUERIES:
            # Elasticsearch, one query: the matching on the loop as above, the cluster round trips
            # (candidates, then the audit entry) awaited or in the pool, never blocking the loop.
            profiles, wanted = state.matcher.plan(queries, body.offices)
            cands = await state.async_es.candidates_many(wanted, body.offices, state.settings.candidates)
            out, detail = answered(state.matcher.judge(queries, profiles, cands, body.limit))
            await state.audit_awaited(who, "match", terms, detail)
        else:
            # Elasticsearch: CPU work in the thread pool, the cluster round trip on the loop.
            profiles, wanted = await run_in_threadpool(state.matcher.plan, queries, body.offices)
            cands = await state.async_es.candidates_many(wanted, body.offices, state.settings.candidates)
            out = await run_in_threadpool(lambda: answer(state.matcher.judge(queries, profiles, cands, body.limit)))
    except InvalidInput as exc:
        if exc.field and not exc.field.startswith(("queries.", "offices")):
            exc.field = f"queries.0.{exc.field}"
        raise
    # Returned as a ready Response: re-validating our own output against MatchResponse cost a
    # third of the single-query latency (bench/load.py); the model still documents the shape.
    out["took_ms"] = round((time.perf_counter() - t0) * 1000, 3)
    large = len(queries) >= LARGE_BATCH
    # pydantic's serializer writes the same bytes as JSONResponse's json.dumps (compact, UTF-8),
    # 5 x faster: json.dumps was 9 % of a /match request's CPU on the realistic 100k workload (py-spy).
    encoded = pydantic_core.to_json(out)
    return Response(
        encoded, media_type="application/json", background=BackgroundTask(give_back_memory) if large else None
    )


def respond(state: State, answers: list[Result]) -> dict[str, Any]:
    """The /match response body for ``answers``, with the audit detail under ``"audit"``."""
    state.metrics.verdict(sum(1 for a in answers if a.seen), len(answers))
    results = []
    seen_by: dict[str, int] = {}
    for result in answers:
        for office in result.offices():
            seen_by[office] = seen_by.get(office, 0) + 1
        results.append(result.to_dict())
    audit = [
        {
            "query_id": r["query_id"],
            "matches": [[doc_id(m["office"], m["record_id"]), m["score"]] for m in r["matches"]],
            "possible": [[doc_id(m["office"], m["record_id"]), m["score"]] for m in r["possible"]],
        }
        for r in results
    ]
    return {"results": results, "offices": seen_by, "audit": audit}


@router.get(
    "/records/{office}/{record_id:path}",
    tags=["records"],
    response_model=RecordResponse,
    summary="One record and its matches",
)
def get_record(office: str, record_id: str, state: StateDep, who: Reader) -> dict[str, Any]:
    """The record's fields and the other offices' records judged to be the same entity."""
    office = office.upper()  # office codes in any case, as everywhere
    found = state.store.get_many([doc_id(office, record_id)])
    rec = found.get(doc_id(office, record_id))
    if rec is None:
        raise NotFound(f"no record {record_id!r} in office {office!r}", field="record_id")
    same = [m.to_dict() for m in state.matcher.same_entity(rec)]
    detail = {"record": doc_id(office, record_id), "same_entity": [doc_id(m["office"], m["record_id"]) for m in same]}
    state.audit(who, "read", [rec.name], detail)
    return {"record": rec.to_dict(), "same_entity": [MatchOut(**m).model_dump() for m in same]}


@router.get("/stats", tags=["operations"], summary="Records per office and entity type")
def stats(state: StateDep, who: StatsReader) -> dict[str, Any]:
    counts = state.store.counts()
    total = sum(sum(v.values()) for v in counts.values())
    return {"records": total, "offices": counts}


@router.get("/healthz", tags=["operations"], summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz", tags=["operations"], summary="Readiness: the store answers", responses={503: {"model": ErrorResponse}}
)
async def readyz(state: StateDep) -> dict[str, Any]:
    try:
        if state.async_es is not None:
            details = await state.async_es.ping()
        else:
            details = await run_in_threadpool(state.store.ping)
    except StoreUnavailable:
        raise
    except Exception as exc:  # any backend failure means "not ready", never a 500
        raise StoreUnavailable(f"store not ready: {exc.__class__.__name__}") from exc
    return {"status": "ready", "store": details}
