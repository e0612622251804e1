"""Screening jobs over HTTP, for analysts (the ``screen`` permission).

- ``POST /screenings``: a watchlist as a file (multipart ``file``: CSV, XLSX or JSONL) or as JSON
  rows → ``202`` with the job. Rows that cannot be checked are kept and reported in the results.
- ``GET /screenings``: the office's jobs; ``GET /screenings/{id}``: status, rows done/total, rows/s.
- ``GET /screenings/{id}/results?format=jsonl|csv``: the results so far, in input order, in the
  formats of ``suspects check``.
- ``DELETE /screenings/{id}``: cancel; the results done so far stay available.

A job belongs to the office of the key that submitted it: other offices get 404, as for a job that
does not exist. Submissions, downloads and cancels are audited, and so is what a finished job found.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import FormData

from api.auth import requires
from api.models import MatchRequest
from indexer.readers import FileError, Row, RowError
from search.access import Principal, iso, now_utc
from search.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from search.jobs import Job
from search.screening import csv_header, csv_rows, csv_text, jsonl_line, read_watchlist, watchlist_items
from search.screening_jobs import submit

router = APIRouter(tags=["screening"])
SCREEN = Annotated[Principal, Depends(requires("screen"))]
UPLOAD_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".jsonl", ".ndjson")


class ScreeningRow(BaseModel):
    """One watchlist row; only ``name`` is needed (a row without it is reported, not refused)."""

    model_config = ConfigDict(extra="forbid")

    query_id: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=10_000)
    entity_type: str | None = Field(default=None, max_length=20, description="person (default) or company")
    id_number: str | None = Field(default=None, max_length=100)
    birth_date: str | None = Field(default=None, max_length=20)
    gender: str | None = Field(default=None, max_length=20)


class ScreeningRequest(BaseModel):
    """A watchlist sent as JSON rows."""

    model_config = ConfigDict(extra="forbid")

    rows: list[ScreeningRow] = Field(min_length=1)
    filename: str = Field(default="rows.json", max_length=200, description="A label for the job.")
    limit: int = Field(default=10, ge=1, le=100, description="Most matches per row.")
    offices: list[str] | None = Field(default=None, description="Office codes to search; all if null.")


class JobOut(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "cancelled", "failed"]
    filename: str
    office: str
    rows_total: int
    rows_done: int
    rows_seen: int
    rows_rejected: int
    rows_per_second: float | None
    eta_seconds: float | None
    limit: int
    offices: list[str]
    created_at: str
    started_at: str | None
    finished_at: str | None
    error: str | None


UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "CSV, XLSX or JSONL"},
                        "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                        "offices": {"type": "string", "description": "Comma-separated office codes"},
                    },
                }
            },
            "application/json": {
                "schema": ScreeningRequest.model_json_schema(ref_template="#/components/schemas/{model}")
            },
        },
    }
}


def _state(request: Request) -> Any:
    return request.app.state.suspects


def _offices(value: list[str] | None) -> list[str] | None:
    try:
        # One place checks office codes: the /match request model.
        return MatchRequest.model_validate({"queries": [{"name": "-"}], "offices": value}).offices
    except ValidationError as exc:
        raise InvalidInput(str(exc.errors()[0]["msg"]).removeprefix("Value error, "), field="offices") from exc


async def parse_form(form: FormData, max_name: int) -> tuple[list[Any], str, int, list[str] | None]:
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise InvalidInput("send the watchlist as the multipart field 'file'", field="file")
    name = upload.filename or "watchlist.csv"
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise InvalidInput(f"{name}: unsupported file type; use .csv, .xlsx or .jsonl", field="file")
    limit_text = str(form.get("limit") or "10")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= 100:
        raise InvalidInput("limit must be an integer from 1 to 100", field="limit")
    office_text = str(form.get("offices") or "")
    offices = _offices([o.strip() for o in office_text.split(",") if o.strip()] or None)
    data = await upload.read()

    def read() -> list[Any]:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"watchlist{suffix}"
            path.write_bytes(data)
            try:
                return list(read_watchlist(path, max_name))
            except FileError as exc:
                raise InvalidInput(f"{name}: {exc}", field="file") from exc

    return await run_in_threadpool(read), name, int(limit_text), offices


async def _parse(request: Request, max_name: int, max_bytes: int) -> tuple[list[Any], str, int, list[str] | None]:
    """(rows, filename, limit, offices) from a multipart upload or a JSON body."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        async with request.form(max_part_size=max_bytes) as form:
            return await parse_form(form, max_name)
    if ctype.startswith("application/json"):
        try:
            body = ScreeningRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "body"
            raise InvalidInput(f"{field}: {first['msg']}", field=field) from exc
        raw: list[tuple[int, Row | RowError]] = [
            (i, {k: v for k, v in r.model_dump().items() if v is not None} | {"name": r.name or ""})
            for i, r in enumerate(body.rows, start=1)
        ]
        return list(watchlist_items(raw, max_name)), body.filename, body.limit, _offices(body.offices)
    raise InvalidInput("send multipart/form-data with a 'file', or application/json rows", field="content-type")


async def start_job(
    state: Any, who: Principal, rows: list[Any], filename: str, limit: int, offices: list[str] | None
) -> Job:
    """Store a job for the runner and audit its submission (with every name it screens)."""
    cfg = state.settings
    if not rows:
        raise InvalidInput(f"{filename}: the watchlist has no rows", field="file")
    if len(rows) > cfg.max_screening_rows:
        raise PayloadTooLarge(f"{len(rows)} rows; at most {cfg.max_screening_rows} per screening", field="file")
    job: Job = await run_in_threadpool(submit, state.jobs, rows, who.office, who.key_id, filename, limit, offices)
    terms = [t for _, q in rows for t in (getattr(q, "name", None), getattr(q, "id_number", None)) if t]
    detail = {"job": job.job_id, "filename": filename, "rows": job.total, "offices": offices}
    await run_in_threadpool(state.audit, who, "screening.create", terms, detail)
    state.metrics.screening_rows.inc(len(rows))
    state.runner.wake()
    return job


def own_job(state: Any, job_id: str, who: Principal) -> Job:
    """The job, if it belongs to the caller's office (404 otherwise, as for no job at all)."""
    job = state.jobs.get(job_id)
    if job is None or job.office != who.office:
        raise NotFound(f"no screening {job_id!r}", field="id")
    assert isinstance(job, Job)
    return job


def results_response(state: Any, who: Principal, job: Job, fmt: str) -> StreamingResponse:
    """A job's results so far as a streamed download (audited)."""
    state.audit(who, "screening.results", [], {"job": job.job_id, "format": fmt, "status": job.status})

    def body() -> Iterator[bytes]:
        if fmt == "csv":
            yield ("\ufeff" + csv_header()).encode("utf-8")
        for output in state.jobs.outputs(job.job_id):
            if fmt == "csv":
                yield csv_text([row for line, name, r in output for row in csv_rows(line, name, r)]).encode("utf-8")
            else:
                yield "".join(jsonl_line(r) for _, _, r in output).encode("utf-8")

    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    stem = Path(job.filename).stem or "watchlist"
    headers = {
        "X-Screening-Status": job.status,
        "Content-Disposition": f'attachment; filename="{job.job_id}-{_ascii(stem)}-results.{fmt}"',
    }
    return StreamingResponse(body(), media_type=media, headers=headers)


@router.post(
    "/screenings", status_code=202, response_model=JobOut, summary="Screen a watchlist", openapi_extra=UPLOAD_BODY
)
async def create(request: Request, who: SCREEN) -> JSONResponse:
    """Store the watchlist as a job and return at once; the server screens it in the background."""
    state = _state(request)
    cfg = state.settings
    rows, filename, limit, offices = await _parse(request, cfg.max_name_length, cfg.max_upload_bytes)
    job = await start_job(state, who, rows, filename, limit, offices)
    return JSONResponse(job.public(), status_code=202, headers={"Location": f"/screenings/{job.job_id}"})


@router.get("/screenings", response_model=list[JobOut], summary="This office's screening jobs, newest first")
def list_jobs(request: Request, who: SCREEN) -> list[dict[str, Any]]:
    return [job.public() for job in _state(request).jobs.list(who.office)]


@router.get("/screenings/{job_id}", response_model=JobOut, summary="A screening job's status and progress")
def status(job_id: str, request: Request, who: SCREEN) -> dict[str, Any]:
    return own_job(_state(request), job_id, who).public()


@router.get(
    "/screenings/{job_id}/results",
    summary="A screening's results so far, in input order (JSONL or CSV)",
    responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}},
)
def results(
    job_id: str,
    request: Request,
    who: SCREEN,
    format: Annotated[Literal["jsonl", "csv"], Query(description="jsonl (one result per row) or csv")] = "jsonl",
) -> StreamingResponse:
    """One JSON line per watchlist row, or one CSV row per match plus one per unseen or rejected row
    (UTF-8 with BOM, formula cells escaped) — the formats of ``suspects check``. While the job runs,
    the rows done so far; ``X-Screening-Status`` says whether that is all."""
    state = _state(request)
    return results_response(state, who, own_job(state, job_id, who), format)


@router.delete("/screenings/{job_id}", response_model=JobOut, summary="Cancel a screening job")
def cancel(job_id: str, request: Request, who: SCREEN) -> dict[str, Any]:
    """Stops the job after the chunk in hand; its results so far stay available."""
    state = _state(request)
    job = own_job(_state(request), job_id, who)
    if not state.jobs.cancel(job_id, iso(now_utc())):
        raise Conflict(f"screening {job_id} has already ended ({job.status})", field="id")
    state.audit(who, "screening.cancel", [], {"job": job_id})
    cancelled = state.jobs.get(job_id)
    return (cancelled or job).public()


def _ascii(text: str) -> str:
    """A header-safe file name (HTTP headers are Latin-1)."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in text)[:60] or "watchlist"
