"""The web page's standing watchlists and alerts inbox (the ``watch`` permission).

- ``/ui/alerts``: the office's alerts, open ones first, each with the watched entry and the partner's
  record side by side and the matcher's explanation; acknowledge or dismiss (with a reason) by form.
- ``/ui/watchlists``: create a list, add an entry or a watchlist file, remove entries.

Plain forms with the CSRF token, so everything works from the keyboard; the same service calls
(and the same audit entries) as the JSON API.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from api.http.deps import state_of
from api.web import csrf
from api.web.i18n import translate
from api.web.pages import _gate, _lang, render
from indexer.intake.readers import FileError
from search.access.keys import Principal
from search.errors import SuspectsError

router = APIRouter(prefix="/ui", include_in_schema=False)


def _alerts_view(request: Request, who: Principal, error: str | None = None, status: int = 200) -> HTMLResponse:
    w = state_of(request).watching
    every = w.alerts(who.office, 0, 1000, None, None)
    rank = {"open": 0, "acknowledged": 1, "dismissed": 2, "closed": 3}
    shown = sorted(every, key=lambda a: (rank[a.status], -a.seq))
    return render(request, "alerts.html", status, who=who, alerts=[a.to_dict() for a in shown], error=error)


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request) -> Response:
    who = _gate(request, "watch")
    if isinstance(who, Response):
        return who
    try:
        return _alerts_view(request, who)
    except SuspectsError as exc:
        return render(request, "error.html", exc.status, who=who, message=exc.message)


@router.post("/alerts/{alert_id}", response_class=HTMLResponse)
async def decide(request: Request, alert_id: int) -> Response:
    who = _gate(request, "watch")
    if isinstance(who, Response):
        return who
    form = await request.form()
    if not csrf.same_site(request, _text(form.get(csrf.FIELD))):
        return render(request, "error.html", 403, who=who, message=translate(_lang(request), "csrf_failed"))
    action = _text(form.get("action"))
    reason = _text(form.get("reason")) or None
    state = state_of(request)
    try:
        status = {"acknowledge": "acknowledged", "dismiss": "dismissed"}.get(action or "", "")
        state.watching.decide(who.office, alert_id, status, reason)
    except SuspectsError as exc:
        return _alerts_view(request, who, exc.message, exc.status)
    state.audit(who, f"alert.{action}", [], {"alert_id": alert_id, "reason": reason})
    return RedirectResponse("/ui/alerts", status_code=303)


def _text(value: str | UploadFile | None) -> str | None:
    return value.strip() if isinstance(value, str) else None


def _lists_view(request: Request, who: Principal, error: str | None = None, status: int = 200) -> HTMLResponse:
    w = state_of(request).watching
    lists: list[dict[str, Any]] = []
    for wl in w.lists(who.office):
        lists.append({**wl.to_dict(), "members": [e.to_dict() for e in w.entries(who.office, wl.list_id)]})
    return render(request, "watchlists.html", status, who=who, lists=lists, error=error)


@router.get("/watchlists", response_class=HTMLResponse)
def lists_page(request: Request) -> Response:
    who = _gate(request, "watch")
    if isinstance(who, Response):
        return who
    try:
        return _lists_view(request, who)
    except SuspectsError as exc:
        return render(request, "error.html", exc.status, who=who, message=exc.message)


@router.post("/watchlists", response_class=HTMLResponse)
async def change_lists(request: Request) -> Response:
    """One form endpoint, its ``op`` field saying which change: create, add, upload, remove."""
    who = _gate(request, "watch")
    if isinstance(who, Response):
        return who
    state = state_of(request)
    async with request.form(max_part_size=state.settings.max_upload_bytes) as form:
        if not csrf.same_site(request, _text(form.get(csrf.FIELD))):
            return render(request, "error.html", 403, who=who, message=translate(_lang(request), "csrf_failed"))
        op, list_id = _text(form.get("op")), _text(form.get("list_id")) or ""
        try:
            w = state.watching
            if op == "create":
                wl = w.create_list(who.office, _text(form.get("name")) or "")
                state.audit(who, "watch.list.create", [], wl.to_dict())
            elif op == "add":
                entry = w.new_entry(who.office, list_id, _text(form.get("name")) or "",
                                    _text(form.get("entity_type")) or None, _text(form.get("id_number")),
                                    _text(form.get("birth_date")), None, _text(form.get("reference")),
                                    _text(form.get("note")))  # fmt: skip
                new = w.add(who.office, list_id, [entry])
                state.audit(who, "watch.entries.add", [entry.name], {"list_id": list_id, "alerts": len(new)})
            elif op == "upload":
                upload = form.get("file")
                if not isinstance(upload, UploadFile) or not upload.filename:
                    raise FileError("choose a file")
                folder = Path(tempfile.mkdtemp(prefix="suspects-watch-"))
                try:
                    path = folder / ("upload" + (Path(upload.filename).suffix.lower() or ".csv"))
                    with path.open("wb") as out:
                        shutil.copyfileobj(upload.file, out)
                    report = w.upload(who.office, list_id, path, state.settings.max_screening_rows)
                finally:
                    shutil.rmtree(folder, ignore_errors=True)
                state.audit(who, "watch.entries.upload", [], {"list_id": list_id, "file": upload.filename,
                                                               "stored": report["stored"], "rejected": report["rejected"]})  # fmt: skip
            elif op == "remove":
                entry_id = _text(form.get("entry_id")) or ""
                w.remove(who.office, entry_id)
                state.audit(who, "watch.entry.remove", [], {"entry_id": entry_id})
            else:
                return _lists_view(request, who, f"unknown operation {op!r}", 422)
        except SuspectsError as exc:
            return _lists_view(request, who, exc.message, exc.status)
        except FileError as exc:
            return _lists_view(request, who, str(exc), 422)
    return RedirectResponse("/ui/watchlists", status_code=303)
