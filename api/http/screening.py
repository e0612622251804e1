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

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from api.http.deps import Screener, StateDep
from api.http.models import JobOut, ScreeningRequest
from api.http.screening_flows import job_views, own_job, parse_request, results_response, start_job
from search.clock import iso, now_utc
from search.errors import Conflict

router = APIRouter(tags=["screening"])


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


@router.post(
    "/screenings", status_code=202, response_model=JobOut, summary="Screen a watchlist", openapi_extra=UPLOAD_BODY
)
async def create(request: Request, state: StateDep, who: Screener) -> JSONResponse:
    """Store the watchlist as a job and return at once; the server screens it in the background."""
    cfg = state.settings
    rows, filename, limit, offices = await parse_request(
        request, state.files, cfg.max_name_length, cfg.max_upload_bytes, cfg.max_screening_rows
    )
    job = await start_job(state, who, rows, filename, limit, offices)
    return JSONResponse(job.public(), status_code=202, headers={"Location": f"/screenings/{job.job_id}"})


@router.get("/screenings", response_model=list[JobOut], summary="This office's screening jobs, newest first")
def list_jobs(state: StateDep, who: Screener) -> list[dict[str, Any]]:
    return job_views(state, state.jobs.list(who.office))


@router.get("/screenings/{job_id}", response_model=JobOut, summary="A screening job's status and progress")
def status(job_id: str, state: StateDep, who: Screener) -> dict[str, Any]:
    return job_views(state, [own_job(state, job_id, who)])[0]


@router.get(
    "/screenings/{job_id}/results",
    summary="A screening's results so far, in input order (JSONL or CSV)",
    responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}},
)
def results(
    job_id: str,
    state: StateDep,
    who: Screener,
    format: Annotated[Literal["jsonl", "csv"], Query(description="jsonl (one result per row) or csv")] = "jsonl",
) -> StreamingResponse:
    """One JSON line per watchlist row, or one CSV row per match plus one per unseen or rejected row
    (UTF-8 with BOM, formula cells escaped) — the formats of ``suspects check``. While the job runs,
    the rows done so far; ``X-Screening-Status`` says whether that is all."""
    return results_response(state, who, own_job(state, job_id, who), format)


@router.delete("/screenings/{job_id}", response_model=JobOut, summary="Cancel a screening job")
def cancel(job_id: str, state: StateDep, who: Screener) -> dict[str, Any]:
    """Stops the job after the chunk in hand; its results so far stay available."""
    job = own_job(state, job_id, who)
    if not state.jobs.cancel(job_id, iso(now_utc())):
        raise Conflict(f"screening {job_id} has already ended ({job.status})", field="id")
    state.audit(who, "screening.cancel", [], {"job": job_id})
    cancelled = state.jobs.get(job_id)
    return (cancelled or job).public()
