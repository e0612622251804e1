"""Writes, keys and the audit trail over HTTP: each only for the role and office it belongs to.

- ``POST /offices/{office}/records`` and ``DELETE /offices/{office}/records/{record_id}``: that
  office's ``office-admin`` only (office A can never change office B's records).
- ``POST/GET/DELETE /keys``: an ``office-admin`` manages its own office's keys.
- ``GET /audit``: an ``auditor`` reads its own office's trail. Nothing updates or deletes entries.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from api.http.deps import Auditor, KeyAdmin, StateDep, Writer
from api.http.screening_flows import UPLOAD_SUFFIXES
from indexer.intake.readers import FileError, FileTooLarge
from search.access.keys import ROLES, new_key
from search.access.store import AuditFilter
from search.clock import iso, now_utc
from search.errors import Forbidden, InvalidInput, NotFound, PayloadTooLarge
from search.matching.query import unknown_offices
from search.screening.watchlist import csv_text, safe_cell
from search.storage.base import doc_id

router = APIRouter()


def _office(office: str) -> str:
    """The office code of a path in canonical form (cn-gd is CN-GD), or 404."""
    if unknown_offices([office.upper()]):
        raise NotFound(f"unknown office {office!r}", field="office")
    return office.upper()


@router.post(
    "/offices/{office}/records",
    tags=["records"],
    summary="Load an office export (CSV, JSONL or XLSX)",
    responses={200: {"content": {"text/csv": {}}, "description": "The load report; as CSV, every rejected row."}},
)
def upload(office: str, file: UploadFile, request: Request, state: StateDep, who: Writer) -> Response:
    """Every row is stored or rejected with its line and reason; the counts reconcile. Every record
    is stored as the URL's office, whatever the file says. The JSON report lists the first
    100 rejections (``rejections_truncated`` says when there are more); sent with
    ``Accept: text/csv`` the answer is every rejected row as CSV, the counts in ``X-Load-*``
    headers."""
    office = _office(office)
    who.require("write", office)
    suffix = Path(file.filename or "upload.csv").suffix.lower() or ".csv"
    if suffix not in (*UPLOAD_SUFFIXES, ".json"):  # a NUL or a 300-character "extension" was a 500
        raise InvalidInput(f"unsupported file type {suffix[:20]!r}: use .csv, .xlsx, .jsonl or .json", field="file")
    # Audited before the first row: an upload cut off part-way (the server killed) leaves this
    # entry with no "load" after it, never committed rows without an audit (issue #18).
    state.audit(who, "load.start", [], {"file": file.filename, "office": office})
    folder = Path(tempfile.mkdtemp(prefix="suspects-upload-"))
    try:
        path, rejected_csv = folder / f"upload{suffix}", folder / "rejections.csv"
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out)
        # A large file is read and loaded in the file worker's process: parsing it never holds
        # this server's GIL.
        summary = state.files.load(state.store, path, office, state.settings.max_upload_rows, rejected_csv)
    except FileError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        state.audit(who, "load.refused", [], {"file": file.filename, "office": office, "error": str(exc)})
        error = PayloadTooLarge if isinstance(exc, FileTooLarge) else InvalidInput
        raise error(f"{file.filename}: {exc}", field="file") from exc
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    counts = {**summary.counts, "file": file.filename}
    state.metrics.loaded(int(counts["stored"]), int(counts["rejected"]))
    state.matcher.clear()
    if state.deliverer is not None:
        state.deliverer.wake()  # the alerts the load raised (written by the file worker's process)
    state.audit(who, "load", [], {**counts, "rejected_lines": [r["line"] for r in summary.rejections]})
    if "text/csv" in request.headers.get("accept", ""):
        headers = {f"X-Load-{k.title()}": str(counts[k]) for k in ("read", "stored", "rejected")}
        lines = _rejection_csv(rejected_csv, file.filename or "")
        cleanup = BackgroundTask(shutil.rmtree, folder, ignore_errors=True)
        return StreamingResponse(lines, media_type="text/csv", headers=headers, background=cleanup)
    shutil.rmtree(folder, ignore_errors=True)
    head = [{"file": file.filename, **r} for r in summary.rejections]
    return JSONResponse({**counts, "rejections": head, "rejections_truncated": summary.truncated})


def _rejection_csv(path: Path, filename: str) -> Iterator[str]:
    """The worker's rejections file (line, field, reason) as the CSV a spreadsheet may open."""
    yield csv_text([["file", "line", "field", "reason"]])
    with path.open(newline="", encoding="utf-8") as fh:
        batch: list[list[str]] = []
        for line, field_, reason in csv.reader(fh):
            batch.append([safe_cell(filename), line, field_, safe_cell(reason)])
            if len(batch) >= 1000:
                yield csv_text(batch)
                batch = []
        yield csv_text(batch)


@router.delete("/offices/{office}/records/{record_id:path}", tags=["records"], summary="Withdraw one record")
def withdraw(office: str, record_id: str, state: StateDep, who: Writer) -> dict[str, Any]:
    office = _office(office)
    who.require("write", office)
    if not state.store.withdraw(office, record_id):
        raise NotFound(f"no record {record_id!r} in office {office}", field="record_id")
    state.matcher.forget(office, record_id)
    state.audit(who, "withdraw", [], {"record": doc_id(office, record_id)})
    return {"withdrawn": doc_id(office, record_id)}


class KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str = Field(examples=["investigator"], description=f"One of: {', '.join(ROLES)}.")
    label: str = Field(min_length=1, max_length=200, examples=["desk 3, Tianhe branch"])
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


@router.post("/keys", tags=["keys"], summary="Create a key for your own office (shown once)")
def create_key(body: KeyRequest, state: StateDep, who: KeyAdmin) -> dict[str, Any]:
    if body.role not in ROLES:
        raise InvalidInput(f"unknown role {body.role!r}; roles: {', '.join(ROLES)}", field="role")
    if body.role == "auditor":
        # Separation of duties: the office-admin whose actions the auditor reads may not mint or
        # revoke auditor keys (issue #18); the operator does, with `suspects keys` on the server.
        raise Forbidden("auditor keys are created and revoked with `suspects keys` on the server", field="role")
    expires = now_utc() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    key, token = new_key(who.office, body.role, body.label, expires)
    state.access.add_key(key)
    state.audit(who, "key.create", [], key.public())
    return {**key.public(), "token": token}


@router.get("/keys", tags=["keys"], summary="Your office's keys (never their secrets)")
def list_keys(state: StateDep, who: KeyAdmin) -> list[dict[str, Any]]:
    return [k.public() for k in state.access.list_keys(who.office)]


@router.delete("/keys/{key_id}", tags=["keys"], summary="Revoke one of your office's keys")
def revoke_key(key_id: str, state: StateDep, who: KeyAdmin) -> dict[str, Any]:
    key = state.access.get_key(key_id)
    if key is None or key.office != who.office:
        raise NotFound(f"no key {key_id!r} in office {who.office}", field="key_id")
    if key.role == "auditor":
        raise Forbidden("auditor keys are created and revoked with `suspects keys` on the server", field="key_id")
    state.access.revoke_key(key_id, iso(now_utc()))
    state.audit(who, "key.revoke", [], {"key_id": key_id})
    return {"revoked": key_id}


@router.get("/audit", tags=["audit"], summary="The audit trail of your office: who searched whom, who changed what")
def audit(
    state: StateDep,
    who: Auditor,
    key: Annotated[str | None, Query(description="Only this key's actions.")] = None,
    since: Annotated[str | None, Query(description="ISO date or time, inclusive.")] = None,
    until: Annotated[str | None, Query(description="ISO date or time, exclusive.")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in the query terms or details.")] = None,
    office: Annotated[str | None, Query(description="Must be your own office.")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[dict[str, Any]]:
    if office is not None and office != who.office:
        who.require("audit", office)
    events = state.access.events(AuditFilter(who.office, key, since, until, q, limit))
    state.audit(
        who, "audit.read", [q] if q else [], {"key": key, "since": since, "until": until, "returned": len(events)}
    )
    return [
        {
            "id": e.id,
            "at": e.at,
            "action": e.action,
            "key_id": e.key_id,
            "office": e.office,
            "role": e.role,
            "client": e.client,
            "terms": e.terms,
            "detail": e.detail,
        }
        for e in events
    ]
