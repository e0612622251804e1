"""The HTTP API: POST /match, records, stats, health. One error shape for every failure.

The app is built by :func:`create_app` from a :class:`Settings`; the store is opened in the lifespan
and closed on shutdown. Matching is CPU-bound Python, so routes are plain ``def`` functions that
FastAPI runs in its thread pool.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from api.auth import RateLimiter, requires
from api.metrics import Metrics, install_metrics
from api.models import ErrorResponse, MatchOut, MatchRequest, MatchResponse, RecordResponse
from search.access import AccessStore, AuditEvent, KeyVerifier, Principal, iso, now_utc
from search.backends import open_access, open_jobs, open_store
from search.engine import Matcher, Query
from search.jobs import JobStore
from search.screening_jobs import Runner

if TYPE_CHECKING:
    from search.es_async import AsyncCandidates
from search.errors import InvalidInput, NotFound, PayloadTooLarge, StoreUnavailable, SuspectsError
from search.settings import Settings, get_settings
from search.store import Store, doc_id

logger = logging.getLogger(__name__)

REQUEST_THREADS = 8

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 413, 422, 429, 503)
}


class State:
    """What the routes share: settings, the store, the matcher, keys and the audit trail."""

    def __init__(
        self, settings: Settings, store: Store, access: AccessStore, jobs: JobStore, metrics: Metrics | None = None
    ) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.store = store
        self.matcher = Matcher(store, settings.candidates)
        self.access = access
        self.jobs = jobs
        self.runner = Runner(jobs, settings, self.matcher, access)
        self.verifier = KeyVerifier(access)
        self.limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
        self.async_es: AsyncCandidates | None = None  # the async read path, with Elasticsearch

    def audit(self, who: Principal, action: str, terms: list[str], detail: dict[str, Any]) -> None:
        """Record one action of one caller in the append-only audit trail."""
        self.access.record(AuditEvent(action, who.key_id, who.office, who.role, who.client, terms, detail))


def get_state(request: Request) -> State:
    state: State = request.app.state.suspects
    return state


StateDep = Annotated[State, Depends(get_state)]


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as ``{"error": {"code", "message", "field"?, "details"?}}``."""

    @app.exception_handler(SuspectsError)
    async def _suspects(_: Request, exc: SuspectsError) -> JSONResponse:
        headers = {}
        retry = getattr(exc, "retry_after", None)
        if retry is not None:
            headers["Retry-After"] = str(retry)
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {
                # A body that is not JSON at all: FastAPI's loc points into the text; name the body.
                "field": "body" if e.get("type") == "json_invalid" else _field(e.get("loc", ())),
                "problem": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ]
        first = details[0] if details else {"field": "body", "problem": "invalid request"}
        err = InvalidInput(f"{first['field']}: {first['problem']}", field=first["field"], details=details)
        return JSONResponse(err.body(), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {400: "malformed_body", 404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        body: dict[str, Any] = {"code": code, "message": str(exc.detail)}
        if exc.status_code == 400:  # the body could not be parsed at all (e.g. not UTF-8)
            body["field"] = "body"
        return JSONResponse({"error": body}, status_code=exc.status_code)


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """Build the API. Tests pass their own settings (and may pass an open store)."""
    cfg = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Matching holds the GIL, so more request threads add memory (a SQLite connection and a
        # malloc arena each), not throughput: bench/concurrency.py, 50 clients for 300 s.
        anyio.to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS
        opened = store or open_store(cfg)
        access = open_access(cfg)
        jobs = open_jobs(cfg)
        app.state.suspects = State(cfg, opened, access, jobs, metrics)
        if cfg.es_url and store is None:
            from search.es_async import AsyncCandidates

            app.state.suspects.async_es = AsyncCandidates(cfg.es_url, cfg.es_index_prefix, cfg.es_timeout)
        try:
            purge_expired(access, cfg.audit_retention_days)
        except StoreUnavailable as exc:  # retried at the next start; requests still get 503s
            logger.warning("audit purge skipped: %s", exc.message)
        try:
            logger.info("serving with %s", opened.ping())
        except StoreUnavailable as exc:  # serve anyway: /readyz says 503 until the store answers
            logger.warning("store not ready at start: %s", exc.message)
        app.state.suspects.runner.start()  # continues any job a previous server left unfinished
        try:
            yield
        finally:
            app.state.suspects.runner.stop()
            jobs.close()
            if store is None:
                opened.close()
            access.close()
            if app.state.suspects.async_es is not None:
                await app.state.suspects.async_es.close()

    app = FastAPI(
        title="suspects",
        version="0.1.0",
        summary="Has any partner office seen this entity? Record linkage across the PPRD IP-enforcement offices.",
        lifespan=lifespan,
        responses=ERRORS,
        docs_url=None,  # served below from a vendored Swagger UI: no CDN inside government networks
        redoc_url=None,
    )
    install_error_handlers(app)
    install_docs(app)
    metrics = Metrics()

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        limit = cfg.max_upload_bytes if request.url.path == "/screenings" else cfg.max_body_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            err = PayloadTooLarge(f"request body is {length} bytes; the limit is {limit}", field="body")
            return JSONResponse(err.body(), status_code=413)
        if length is None and "chunked" in request.headers.get("transfer-encoding", "").lower():
            # A chunked body has no length to check before it is read: refuse it (RFC 9110 411).
            body = {"error": {"code": "length_required", "message": "send Content-Length", "field": "body"}}
            return JSONResponse(body, status_code=411)
        return await call_next(request)

    install_metrics(app, metrics)  # outermost: counts the 413s above too

    @app.post("/match", response_model=MatchResponse, summary="Check a batch of names against every partner office")
    async def match(
        body: MatchRequest, state: StateDep, who: Annotated[Principal, Depends(requires("match"))]
    ) -> Response:
        """For each query, the records the scorer judges to be the same entity, best first, each
        with its explanation; plus, per office, how many queries it has seen."""
        if len(body.queries) > state.settings.max_batch:
            raise PayloadTooLarge(
                f"{len(body.queries)} queries; at most {state.settings.max_batch} per request", field="queries"
            )
        for i, q in enumerate(body.queries):
            if len(q.name) > state.settings.max_name_length:
                raise InvalidInput(
                    f"name is {len(q.name)} characters; at most {state.settings.max_name_length}",
                    field=f"queries.{i}.name",
                )
        t0 = time.perf_counter()
        queries = [Query(q.name, q.entity_type, q.query_id, q.id_number, q.birth_date, q.gender) for q in body.queries]
        try:
            if state.async_es is None:
                answers = await run_in_threadpool(state.matcher.match_many, queries, body.offices, body.limit)
            else:
                # Elasticsearch: CPU work in the thread pool, the cluster round trip on the loop.
                profiles, wanted = await run_in_threadpool(state.matcher.plan, queries, body.offices)
                cands = await state.async_es.candidates_many(wanted, body.offices, state.settings.candidates)
                answers = await run_in_threadpool(state.matcher.judge, queries, profiles, cands, body.limit)
        except InvalidInput as exc:
            if exc.field and not exc.field.startswith(("queries.", "offices")):
                exc.field = f"queries.0.{exc.field}"
            raise
        results = []
        state.metrics.verdict(sum(1 for a in answers if a.seen), len(answers))
        seen_by: dict[str, int] = {}
        for result in answers:
            for office in result.offices():
                seen_by[office] = seen_by.get(office, 0) + 1
            results.append(result.to_dict())
        await run_in_threadpool(
            state.audit,
            who,
            "match",
            [t for q in body.queries for t in (q.name, q.id_number) if t],
            {
                "offices": body.offices,
                "results": [
                    {
                        "query_id": r["query_id"],
                        "matches": [[f"{m['office']}:{m['record_id']}", m["score"]] for m in r["matches"]],
                    }
                    for r in results
                ],
            },
        )
        # Returned as a ready Response: re-validating our own output against MatchResponse cost a
        # third of the single-query latency (bench/load.py); the model still documents the shape.
        out = {"results": results, "offices": seen_by, "took_ms": round((time.perf_counter() - t0) * 1000, 3)}
        return JSONResponse(out)

    @app.get("/records/{office}/{record_id}", response_model=RecordResponse, summary="One record and its matches")
    def get_record(
        office: str, record_id: str, state: StateDep, who: Annotated[Principal, Depends(requires("read"))]
    ) -> dict[str, Any]:
        """The record's fields and the other offices' records judged to be the same entity."""
        found = state.store.get_many([doc_id(office, record_id)])
        rec = found.get(doc_id(office, record_id))
        if rec is None:
            raise NotFound(f"no record {record_id!r} in office {office!r}", field="record_id")
        same = [m.to_dict() for m in state.matcher.same_entity(rec)]
        state.audit(
            who,
            "read",
            [rec.name],
            {"record": doc_id(office, record_id), "same_entity": [f"{m['office']}:{m['record_id']}" for m in same]},
        )
        return {"record": rec.to_dict(), "same_entity": [MatchOut(**m).model_dump() for m in same]}

    @app.get("/stats", summary="Records per office and entity type")
    def stats(state: StateDep, who: Annotated[Principal, Depends(requires("stats"))]) -> dict[str, Any]:
        counts = state.store.counts()
        total = sum(sum(v.values()) for v in counts.values())
        return {"records": total, "offices": counts}

    @app.get("/healthz", summary="Liveness: the process answers")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Readiness: the store answers", responses={503: {"model": ErrorResponse}})
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

    from api.routes_admin import router as admin_router
    from api.routes_reconcile import keyed_router
    from api.routes_reconcile import router as reconcile_router
    from api.routes_screening import router as screening_router

    app.include_router(admin_router)
    app.include_router(screening_router)
    app.include_router(reconcile_router)
    app.include_router(keyed_router)

    from fastapi.responses import RedirectResponse
    from fastapi.staticfiles import StaticFiles

    from api.ui import router as ui_router

    app.include_router(ui_router)
    app.mount("/ui/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/search", status_code=303)

    return app


def install_docs(app: FastAPI) -> None:
    """``/docs`` from the Swagger UI files of the ``swagger-ui-bundle-v2`` package (Apache-2.0),
    served by this process: FastAPI's default page loads them from a CDN."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs/static", StaticFiles(directory=swagger_ui_path), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="suspects API",
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="/docs/static/favicon-32x32.png",
        )


def purge_expired(access: AccessStore, retention_days: int) -> int:
    """Delete audit entries older than the retention period; the purge records itself."""
    before = iso(now_utc() - timedelta(days=retention_days))
    by = AuditEvent("audit.purge", "system", "-", "service", "", [], {"retention_days": retention_days})
    return access.purge(before, by)
