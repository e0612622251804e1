"""The investigators' web page: server-rendered (Jinja2), no CDN, in English and Chinese.

Signing in checks the API key once and starts a server-side session: the cookie holds a random
token (HttpOnly, SameSite=Strict, Secure over HTTPS, path /ui, no expiry date: the browser drops it
when it closes), the store its hash; it ends at sign-out, after ``SUSPECTS_SESSION_HOURS``, or when
its key is revoked. Every page checks the key exactly as the JSON API does
— same roles, same rate limit, same audit entries — and then calls the same matcher. The only
JavaScript (``static/app.js``) refreshes a running screening's progress; everything else works
with plain links and forms, so the page is usable from the keyboard alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.http.deps import client_address, state_of
from api.http.screening_flows import job_views, own_job, parse_form, results_response, start_job
from api.http.state import State
from api.web import csrf
from api.web.i18n import LANGS, explain, feature_label, translate
from indexer.records import OFFICES
from search.access.keys import Principal, new_session, session_caller, session_digest
from search.clock import iso, now_utc
from search.errors import InvalidInput, SuspectsError, Unauthorized
from search.matching.query import Query
from search.matching.results import Match, Result
from search.screening.jobs import Job
from search.storage.base import doc_id

COOKIE = "suspects_key"
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(prefix="/ui", include_in_schema=False)


def _lang(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get("lang")
    if asked in LANGS:
        return asked
    return "zh" if request.headers.get("accept-language", "").lower().startswith("zh") else "en"


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = _lang(request)
    other = "en" if lang == "zh" else "zh"
    query = dict(request.query_params) | {"lang": other}
    context |= {
        "lang": lang,
        "t": lambda key, **v: translate(lang, key, **v),
        "feature_label": lambda f: feature_label(lang, f),
        "explain": lambda d: explain(lang, d),
        "switch_url": f"{request.url.path}?{urlencode(query, doseq=True)}",
        "who": context.get("who"),
        "unread": _unread(request, context.get("who")),
        "csrf": csrf.token(request),
    }
    resp = templates.TemplateResponse(request, name, context, status_code=status)
    csrf.remember(request, resp)
    # Only this origin's own script and styles; never framed (the page holds a signed-in session).
    resp.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'; form-action 'self'"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    if request.query_params.get("lang") in LANGS:
        resp.set_cookie("lang", lang, samesite="strict", path="/ui")
    return resp


def _unread(request: Request, who: Principal | None) -> int:
    """Open alerts of the signed-in office, for the header (0 where the backend keeps none)."""
    watching = state_of(request).watching_or_none
    if who is None or watching is None or not who.can("watch"):
        return 0
    return watching.store.unread(who.office)


def _caller(request: Request) -> Principal | None:
    """The signed-in caller, or None (no cookie, or a key that is no longer valid)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    state = state_of(request)
    who = session_caller(state.access, token, client_address(request))
    if who is not None:
        state.limiter.take(who.key_id)
    return who


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/ui/login?{urlencode({'next': target})}", status_code=303)


def _forbidden(request: Request, who: Principal) -> HTMLResponse:
    return render(request, "error.html", 403, who=who, message=translate(_lang(request), "forbidden"))


def _gate(request: Request, permission: str) -> Principal | Response:
    """The signed-in caller if its role has ``permission``; else the page to show instead (the
    sign-in page, or a 403 page)."""
    who = _caller(request)
    if who is None:
        return _to_login(request)
    if not who.can(permission):
        return _forbidden(request, who)
    return who


@router.get("", response_class=RedirectResponse)
def home() -> RedirectResponse:
    return RedirectResponse("/ui/search", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/ui/search") -> HTMLResponse:
    return render(request, "login.html", next=next if next.startswith("/ui") else "/ui/search", error=None)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    key: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form()] = "/ui/search",
    token: Annotated[str | None, Form(alias="csrf", max_length=100)] = None,
) -> Response:
    state = state_of(request)
    lang = _lang(request)
    if not csrf.same_site(request, token):
        return render(request, "login.html", 403, next=next, error=translate(lang, "csrf_failed"))
    current = _caller(request)
    if current is not None and not key.strip().startswith(f"sus_{current.key_id}_"):
        # Never replace a session silently: a forged sign-in would move the next searches to
        # another office's key (issue #18).
        return render(request, "login.html", 409, next=next, who=current, error=translate(lang, "signed_in_already"))
    try:
        who = state.verifier.verify(key.strip(), client_address(request))
    except Unauthorized as exc:
        return render(request, "login.html", 401, next=next, error=translate(lang, "bad_key") + exc.message)
    # The cookie holds a random session token, never the key (it used to: a copied cookie was
    # the key itself, and signing out did not end it). The store keeps the token's hash.
    old = request.cookies.get(COOKIE)
    if current is not None and old:  # the same key signing in again: one session, not two
        state.access.end_session(session_digest(old), iso(now_utc()))
    session, token = new_session(who.key_id, state.settings.session_hours)
    state.access.add_session(session)
    state.audit(who, "login", [], {"expires_at": session.expires_at})
    resp = RedirectResponse(next if next.startswith("/ui") else "/ui/search", status_code=303)
    # No max_age: a session cookie, gone when the browser closes. HttpOnly: no script can read it.
    # Secure whenever the page came over HTTPS (directly, or via a trusted proxy's header).
    resp.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/ui", secure=request.url.scheme == "https")
    return resp


@router.post("/logout")
def logout(request: Request, token: Annotated[str | None, Form(alias="csrf", max_length=100)] = None) -> Response:
    if not csrf.same_site(request, token):
        return render(
            request, "error.html", 403, who=_caller(request), message=translate(_lang(request), "csrf_failed")
        )
    state, token = state_of(request), request.cookies.get(COOKIE)
    who = _caller(request)
    if token and who is not None:
        # Ended in the store: a copy of the cookie taken before sign-out no longer works.
        state.access.end_session(session_digest(token), iso(now_utc()))
        state.audit(who, "logout", [], {})
    resp = RedirectResponse("/ui/login", status_code=303)
    resp.delete_cookie(COOKIE, path="/ui")
    return resp


def group_by_office(matches: list[Match]) -> list[tuple[str, list[Match]]]:
    """Matches grouped by office, the office with the best match first."""
    groups: dict[str, list[Match]] = {}
    for m in sorted(matches, key=lambda m: (-m.decision.score, m.record.office, m.record.record_id)):
        groups.setdefault(m.record.office, []).append(m)
    return list(groups.items())


@router.get("/search", response_class=HTMLResponse)
async def search(
    request: Request,
    name: str = "",
    entity_type: str = "any",
    id_number: str = "",
    birth_date: str = "",
) -> Response:
    who = _caller(request)
    if who is None:
        return _to_login(request)
    form = {"name": name, "entity_type": entity_type, "id_number": id_number, "birth_date": birth_date}
    offices = [o for o in request.query_params.getlist("office") if o in OFFICES]
    context: dict[str, Any] = {"who": who, "form": form, "offices": OFFICES, "chosen": offices, "result": None}
    if not name.strip():
        return render(request, "search.html", **context)
    if not who.can("match"):
        return _forbidden(request, who)
    state = state_of(request)
    etype = entity_type if entity_type in ("person", "company") else None

    def run() -> Result:
        q = Query(name.strip(), etype, None, id_number.strip() or None, birth_date.strip() or None)
        return state.matcher.match(q, offices or None, 20)

    try:
        answer = await run_in_threadpool(run)
    except InvalidInput as exc:
        context["error"] = exc.message
        return render(request, "search.html", 422, **context)
    matches = answer.matches
    results = [[doc_id(m.record.office, m.record.record_id), m.decision.score] for m in matches]
    terms = [t for t in (name.strip(), id_number.strip()) if t]
    await run_in_threadpool(
        state.audit, who, "match", terms, {"offices": offices or None, "web": True, "results": results}
    )
    state.metrics.verdict(1 if matches else 0, 1)
    held = answer.offices()
    # The asking office is not a partner: "seen by 4 partner offices" counted it (issue #15).
    context |= {
        "result": answer,
        "partners": len([o for o in held if o != who.office]),
        "own": who.office in held,
        "kind": _kind(answer),
    }
    return render(request, "search.html", **context)


def _kind(answer: Result) -> str:
    """person, company or entity: what the hits are, for the page's wording."""
    kinds = {m.record.entity_type for m in answer.matches}
    return kinds.pop() if len(kinds) == 1 else "entity"


@router.get("/records/{record:path}", response_class=HTMLResponse)
async def record_page(request: Request, record: str) -> Response:
    """``record`` is ``<office>:<record id>``, the id the reconciliation service hands out."""
    who = _gate(request, "read")
    if isinstance(who, Response):
        return who
    state = state_of(request)
    rec = (await run_in_threadpool(state.store.get_many, [record])).get(record)
    if rec is None:
        return render(request, "error.html", 404, who=who, message=f"no record {record!r}")
    same = await run_in_threadpool(state.matcher.same_entity, rec)
    detail = {"record": record, "same_entity": [doc_id(m.record.office, m.record.record_id) for m in same], "web": True}
    await run_in_threadpool(state.audit, who, "read", [rec.name], detail)
    return render(request, "record.html", who=who, rec=rec, same=group_by_office(same))


@router.get("/screenings", response_class=HTMLResponse)
def screenings(request: Request) -> Response:
    who = _gate(request, "screen")
    if isinstance(who, Response):
        return who
    jobs = [j.public() for j in state_of(request).jobs.list(who.office)]
    return render(request, "screenings.html", who=who, jobs=jobs, error=None)


@router.post("/screenings", response_class=HTMLResponse)
async def upload(request: Request) -> Response:
    who = _gate(request, "screen")
    if isinstance(who, Response):
        return who
    state = state_of(request)
    try:
        async with request.form(max_part_size=state.settings.max_upload_bytes) as form:
            sent = form.get(csrf.FIELD)
            if not csrf.same_site(request, sent if isinstance(sent, str) else None):
                return render(request, "error.html", 403, who=who, message=translate(_lang(request), "csrf_failed"))
            rows, filename, limit, offices = await parse_form(
                form, state.files, state.settings.max_name_length, state.settings.max_screening_rows
            )
        job = await start_job(state, who, rows, filename, limit, offices)
    except SuspectsError as exc:
        jobs = [j.public() for j in state.jobs.list(who.office)]
        return render(request, "screenings.html", exc.status, who=who, jobs=jobs, error=exc.message)
    return RedirectResponse(f"/ui/screenings/{job.job_id}", status_code=303)


@router.get("/screenings/{job_id}", response_class=HTMLResponse)
def screening(request: Request, job_id: str) -> Response:
    who = _gate(request, "screen")
    if isinstance(who, Response):
        return who
    try:
        job = own_job(state_of(request), job_id, who)
    except SuspectsError as exc:
        return render(request, "error.html", exc.status, who=who, message=exc.message)
    view = job_views(state_of(request), [job])[0]
    return render(request, "screening.html", who=who, job=view, preview=_preview(state_of(request), job))


PREVIEW_ROWS = 20


def _preview(state: State, job: Job) -> list[tuple[int, str, dict[str, Any]]]:
    """The first rows of a job's results, for the page (a finished job shows what it found)."""
    rows: list[tuple[int, str, dict[str, Any]]] = []
    for output in state.jobs.outputs(job.job_id):
        rows.extend(output[: PREVIEW_ROWS - len(rows)])
        if len(rows) >= PREVIEW_ROWS:
            break
    return rows


@router.get("/screenings/{job_id}/status")
def screening_status(request: Request, job_id: str) -> Response:
    """The job as JSON, for the progress script."""
    who = _caller(request)
    if who is None:
        raise Unauthorized("signed out")
    who.require("screen")
    state = state_of(request)
    return JSONResponse(job_views(state, [own_job(state, job_id, who)])[0])


@router.get("/screenings/{job_id}/results")
def screening_results(request: Request, job_id: str, format: str = "csv") -> Response:
    who = _gate(request, "screen")
    if isinstance(who, Response):
        return who
    state = state_of(request)
    return results_response(state, who, own_job(state, job_id, who), "jsonl" if format == "jsonl" else "csv")


@router.post("/screenings/{job_id}/cancel")
def cancel(
    request: Request, job_id: str, token: Annotated[str | None, Form(alias="csrf", max_length=100)] = None
) -> Response:
    who = _gate(request, "screen")
    if isinstance(who, Response):
        return who
    if not csrf.same_site(request, token):
        return render(request, "error.html", 403, who=who, message=translate(_lang(request), "csrf_failed"))
    state = state_of(request)
    own_job(state, job_id, who)
    if state.jobs.cancel(job_id, iso(now_utc())):
        state.audit(who, "screening.cancel", [], {"job": job_id, "web": True})
    return RedirectResponse(f"/ui/screenings/{job_id}", status_code=303)
