"""The screening flows that the JSON API and the web page share: reading a submitted watchlist
(multipart file or JSON rows), starting a job, finding the caller's own job, and streaming its
results. The routers (:mod:`api.http.screening`, :mod:`api.web.pages`) only call these."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.http.models import ScreeningRequest
from api.http.state import State
from indexer.intake.readers import FileError, FileTooLarge, Row, RowError
from search.access.keys import Principal
from search.errors import InvalidInput, NotFound, PayloadTooLarge
from search.matching.query import Query, check_offices
from search.screening.jobs import ACTIVE, Job, queue_places
from search.screening.runner import submit
from search.screening.watchlist import (
    Rows,
    csv_header,
    csv_rows,
    csv_text,
    jsonl_line,
    watchlist_items,
)
from search.uploads import FileWorker

UPLOAD_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".jsonl", ".ndjson")


async def parse_form(
    form: FormData, files: FileWorker, max_name: int, max_rows: int
) -> tuple[Rows, str, int, list[str] | None]:
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
    offices = check_offices([o.strip() for o in office_text.split(",") if o.strip()] or None)

    def read() -> Rows:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"watchlist{suffix}"
            with path.open("wb") as out:
                shutil.copyfileobj(upload.file, out)
            try:
                # Counted while streaming: row max_rows + 1 stops the read (a 50 MB file of
                # one-letter lines was read whole, 6.5 GB, before its 413: issue #18).
                return files.read_watchlist(path, max_name, max_rows)
            except FileTooLarge as exc:
                raise PayloadTooLarge(f"{name}: {exc}", field="file") from exc
            except FileError as exc:
                raise InvalidInput(f"{name}: {exc}", field="file") from exc

    return await run_in_threadpool(read), name, int(limit_text), offices


async def parse_request(
    request: Request, files: FileWorker, max_name: int, max_bytes: int, max_rows: int
) -> tuple[Rows, str, int, list[str] | None]:
    """(rows, filename, limit, offices) from a multipart upload or a JSON body (whose size the
    limits middleware has already held to max_body_bytes: JSON is parsed whole)."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        async with request.form(max_part_size=max_bytes) as form:
            return await parse_form(form, files, max_name, max_rows)
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
        return list(watchlist_items(raw, max_name)), body.filename, body.limit, check_offices(body.offices)
    raise InvalidInput("send multipart/form-data with a 'file', or application/json rows", field="content-type")


async def start_job(
    state: State, who: Principal, rows: Rows, filename: str, limit: int, offices: list[str] | None
) -> Job:
    """Store a job for the runner and audit its submission (with every name it screens)."""
    cfg = state.settings
    if not rows:
        raise InvalidInput(f"{filename}: the watchlist has no rows", field="file")
    if len(rows) > cfg.max_screening_rows:
        raise PayloadTooLarge(f"{len(rows)} rows; at most {cfg.max_screening_rows} per screening", field="file")
    job: Job = await run_in_threadpool(submit, state.jobs, rows, who.office, who.key_id, filename, limit, offices)
    terms = [t for _, q in rows if isinstance(q, Query) for t in (q.name, q.id_number) if t]
    detail = {"job": job.job_id, "filename": filename, "rows": job.total, "offices": offices}
    await run_in_threadpool(state.audit, who, "screening.create", terms, detail)
    state.metrics.screening_rows.inc(len(rows))
    state.runner.wake()
    return job


def own_job(state: State, job_id: str, who: Principal) -> Job:
    """The job, if it belongs to the caller's office (404 otherwise, as for no job at all)."""
    job = state.jobs.get(job_id)
    if job is None or job.office != who.office:
        raise NotFound(f"no screening {job_id!r}", field="id")
    return job


def results_response(state: State, who: Principal, job: Job, fmt: str) -> StreamingResponse:
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
        "Content-Disposition": f'attachment; filename="{job.job_id}-{ascii_filename(stem)}-results.{fmt}"',
    }
    return StreamingResponse(body(), media_type=media, headers=headers)


def ascii_filename(text: str) -> str:
    """A header-safe file name (HTTP headers are Latin-1)."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in text)[:60] or "watchlist"


def job_views(state: State, jobs: list[Job]) -> list[dict[str, Any]]:
    """Jobs as shown to their office; an active one with its place in the queue (see
    :func:`~search.screening.jobs.queue_places`)."""
    places = queue_places(state.jobs.active()) if any(j.status in ACTIVE for j in jobs) else {}
    empty = {"queue_position": None, "offices_waiting": None}
    return [{**j.public(), **places.get(j.job_id, empty)} for j in jobs]
