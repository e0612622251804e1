"""The Reconciliation Service API 0.2 (the version OpenRefine speaks), over the same matcher.

Service URL: ``/reconcile`` with ``Authorization: Bearer <key>``, or ``/reconcile/key/<key>`` for
clients that cannot send a header (OpenRefine cannot): the key is then part of every URL the
manifest gives, so use a short-lived key for it (``suspects keys create --expires-days 1``).

- manifest (``GET``), query batches (``POST`` form field ``queries``, or ``GET ?queries=``);
- types ``person`` and ``company``; properties ``id_number``, ``birth_date``, ``gender`` and
  ``office`` (restricts the search to those offices);
- each candidate has a 0–100 ``score``, the scorer's features, and ``match``: true only for the
  best candidate, and only when the scorer judges it the same entity — so OpenRefine's
  auto-match takes exactly what ``/match`` would report first. Near misses (score ≥ 50) are listed
  with ``match: false`` for a person to pick from;
- an HTML preview of a record, and suggest for types and properties;
- data extension: the reconciled records' fields as new columns (``extend``, with the properties
  each type offers at ``/properties``), including the other records the scorer judges to be the
  same entity, as ``GET /records`` shows them (the same permission and audit).

A query that cannot be checked (e.g. an unreadable birth date) gets an empty result and is counted
in the response header ``X-Reconcile-Rejected``; a malformed batch is a 422 naming the query.
"""

import html
import json
import math
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi import Query as Param  # the matcher's Query is this module's other Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.background import BackgroundTask

from api.http.deps import key_in_path, principal, state_of
from api.http.match import LARGE_BATCH
from indexer.records import Record
from search.access.keys import Principal
from search.errors import InvalidInput, NotFound
from search.matching.query import Query, check_offices
from search.matching.results import Match
from search.storage.base import doc_id
from search.uploads import give_back_memory

TYPES = {"person": "Person 个人", "company": "Company 企业"}
PROPERTIES = {
    "id_number": "ID number 证件号码",
    "birth_date": "Birth date 出生日期 (YYYY-MM-DD)",
    "gender": "Gender 性别",
    "office": "Office 办公室 (e.g. CN-HK)",
}
# What a data extension can add as columns, by type (a company has no birth date or gender).
EXTEND = {
    "name": "Name 名称",
    "aliases": "Aliases 别名",
    "office": "Office 办公室",
    "record_id": "Record 记录",
    "id_number": "ID number 证件号码",
    "birth_date": "Birth date 出生日期",
    "gender": "Gender 性别",
    "same_entity": "Same entity, other records 同一实体的其他记录",
}
NOT_FOR = {"person": frozenset[str](), "company": frozenset({"birth_date", "gender"})}
NEAR_MISS = 0.5  # candidates below this are noise to a person choosing by hand
MAX_LIMIT = 25
BATCH_MAX = 100  # queries per batch; OpenRefine sends 10 by default (manifest batchSize is not in 0.2)


def _service_url(request: Request) -> str:
    path = request.url.path
    for tail in ("/preview", "/suggest/type", "/suggest/property", "/properties"):
        path = path.removesuffix(tail)
    return str(request.base_url).rstrip("/") + path.rstrip("/")


def manifest(service: str, root: str) -> dict[str, Any]:
    return {
        "versions": ["0.2"],
        "name": "suspects: PPRD IP-enforcement offices",
        "identifierSpace": "urn:pprd-suspects:record",
        "schemaSpace": "urn:pprd-suspects:schema",
        "documentation": f"{root}/docs",
        "serviceVersion": "0.1.0",
        "defaultTypes": [{"id": k, "name": v} for k, v in TYPES.items()],
        "view": {"url": f"{root}/ui/records/{{{{id}}}}"},
        "preview": {"url": f"{service}/preview?id={{{{id}}}}", "width": 430, "height": 220},
        "suggest": {
            "type": {"service_url": service, "service_path": "/suggest/type"},
            "property": {"service_url": service, "service_path": "/suggest/property"},
        },
        "extend": {
            "propose_properties": {"service_url": service, "service_path": "/properties"},
            "property_settings": [],
        },
    }


def _first_text(v: Any) -> str | None:
    values = v if isinstance(v, list) else [v]
    for item in values:
        if isinstance(item, dict):
            item = item.get("id") or item.get("name")
        if isinstance(item, str | int | float) and not isinstance(item, bool) and str(item).strip():
            return str(item).strip()
    return None


def _json(text: str, field: str) -> Any:
    """A form field's JSON; InvalidInput naming the field if it is not JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{field} is not JSON: {exc.msg} at {exc.pos}", field=field) from exc
    except RecursionError as exc:  # 3,000 nested arrays were a plain-text 500 (issue #18)
        raise InvalidInput(f"{field} is nested too deeply", field=field) from exc


def parse_batch(text: str) -> dict[str, tuple[Query, list[str] | None, int]]:
    """A batch as (query, offices, limit) per key; InvalidInput naming the part that is wrong."""
    batch = _json(text, "queries")
    if not isinstance(batch, dict) or not batch:
        raise InvalidInput("queries must be a non-empty JSON object of queries", field="queries")
    if len(batch) > BATCH_MAX:
        raise InvalidInput(f"{len(batch)} queries; at most {BATCH_MAX} per batch", field="queries")
    out: dict[str, tuple[Query, list[str] | None, int]] = {}
    for key, q in batch.items():
        where = f"queries.{key}"
        if not isinstance(q, dict):
            raise InvalidInput("each query must be an object", field=where)
        name = q.get("query", "")
        if not isinstance(name, str):
            raise InvalidInput("query must be a string", field=f"{where}.query")
        types = q.get("type") or []
        types = [types] if isinstance(types, str) else types
        # No type: the core decides (a legal form means a company, otherwise both are searched).
        etype = next((t for t in types if isinstance(t, str) and t in TYPES), None) if isinstance(types, list) else None
        limit = q.get("limit", 5)
        if not isinstance(limit, int | float) or isinstance(limit, bool) or not math.isfinite(limit):
            raise InvalidInput("limit must be a finite number", field=f"{where}.limit")
        properties = q.get("properties") or []
        if not isinstance(properties, list):
            raise InvalidInput("properties must be a list", field=f"{where}.properties")
        props: dict[str, Any] = {}
        for p in properties:
            pid = p.get("pid") if isinstance(p, dict) else None
            if pid not in PROPERTIES:
                raise InvalidInput(
                    f"unknown property {pid!r}; known: {', '.join(PROPERTIES)}", field=f"{where}.properties"
                )
            props[pid] = p.get("v")
        offices = None
        if props.get("office") is not None:
            raw = props["office"] if isinstance(props["office"], list) else [props["office"]]
            offices = check_offices([t for t in (_first_text(v) for v in raw) if t], field=f"{where}.properties")
        query = Query(
            name.strip(),
            etype,
            str(key),
            _first_text(props.get("id_number")),
            _first_text(props.get("birth_date")),
            _first_text(props.get("gender")),
        )
        out[str(key)] = (query, offices or None, max(1, min(MAX_LIMIT, int(limit))))
    return out


def proposed(etype: str) -> dict[str, Any]:
    """The properties a data extension offers for a type (OpenRefine asks before it extends)."""
    if etype not in TYPES:
        raise InvalidInput(f"unknown type {etype!r}; known: {', '.join(TYPES)}", field="type")
    return {"type": etype, "properties": [{"id": k, "name": v} for k, v in EXTEND.items() if k not in NOT_FOR[etype]]}


def parse_extend(text: str) -> tuple[list[str], list[str]]:
    """A data extension query as (record ids, property ids); InvalidInput naming the part that is wrong."""
    query = _json(text, "extend")
    if not isinstance(query, dict):
        raise InvalidInput("extend must be a JSON object with ids and properties", field="extend")
    ids, props = query.get("ids"), query.get("properties")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise InvalidInput("ids must be a non-empty list of record ids", field="extend.ids")
    if len(ids) > BATCH_MAX:
        raise InvalidInput(f"{len(ids)} ids; at most {BATCH_MAX} per request", field="extend.ids")
    if not isinstance(props, list) or not props:
        raise InvalidInput("properties must be a non-empty list", field="extend.properties")
    wanted: list[str] = []
    for i, p in enumerate(props):
        pid = p.get("id") if isinstance(p, dict) else None
        if pid not in EXTEND:
            raise InvalidInput(f"unknown property {pid!r}; known: {', '.join(EXTEND)}", field=f"extend.properties.{i}")
        wanted.append(pid)
    return list(dict.fromkeys(ids)), list(dict.fromkeys(wanted))


def _values(rec: Record, pid: str, same: list[Match]) -> list[dict[str, str]]:
    """One cell of an extension: the record's values of one property."""
    if pid == "same_entity":
        return [{"id": doc_id(m.record.office, m.record.record_id), "name": m.record.name} for m in same]
    if pid == "aliases":
        return [{"str": a} for a in rec.aliases]
    value = getattr(rec, pid) if pid not in NOT_FOR[rec.entity_type] else None
    # A birth date stays text: the schema's dates are full timestamps, and offices write a year alone.
    return [{"str": str(value)}] if value else []


def candidate(rank: int, m: Match) -> dict[str, Any]:
    r = m.record
    born = f", born {r.birth_date}" if r.birth_date else ""
    return {
        "id": doc_id(r.office, r.record_id),
        "name": r.name,
        "description": f"{r.office} {r.record_id}{born}",
        "score": round(m.decision.score * 100, 1),
        "match": rank == 0 and m.decision.match,
        "type": [{"id": r.entity_type, "name": TYPES[r.entity_type]}],
        "features": [
            {"id": f.feature, "value": float(f.value)}
            for f in m.decision.features
            if isinstance(f.value, int | float) and not isinstance(f.value, bool)
        ],
    }


def _suggest(table: dict[str, str], prefix: str) -> dict[str, Any]:
    p = prefix.strip().lower()
    return {"result": [{"id": k, "name": v} for k, v in table.items() if not p or p in k or p in v.lower()]}


def add_routes(router: APIRouter, caller: Callable[..., Awaitable[Principal]]) -> None:
    """The reconciliation endpoints on ``router``, authenticated by ``caller``."""
    Who = Annotated[Principal, Depends(caller)]

    async def answer(request: Request, who: Principal, text: str) -> JSONResponse:
        who.require("match")
        state = state_of(request)
        batch = parse_batch(text)
        # Each query costs a token, as in /match: a batch of 10 maximum-length names for one
        # token was the cheapest way to load the server (bench/abuse.py, reconcile phase).
        if len(batch) > 1:
            state.limiter.take(who.key_id, len(batch) - 1)

        def run() -> tuple[dict[str, Any], int]:
            out: dict[str, Any] = {}
            rejected = 0
            for key, (q, offices, limit) in batch.items():
                try:
                    found = state.matcher.scored(q, offices, limit, NEAR_MISS)
                except InvalidInput:
                    found, rejected = [], rejected + 1
                out[key] = {"result": [candidate(i, m) for i, m in enumerate(found)]}
            seen = sum(1 for v in out.values() if any(c["match"] for c in v["result"]))
            state.metrics.verdict(seen, len(out))
            detail = {"results": {k: [[c["id"], c["score"], c["match"]] for c in v["result"]] for k, v in out.items()}}
            terms = [t for q, _, _ in batch.values() for t in (q.name, q.id_number) if t]
            state.audit(who, "reconcile", terms, detail)  # in the same thread hop as the matching
            return out, rejected

        out, rejected = await run_in_threadpool(run)
        trim = BackgroundTask(give_back_memory) if len(batch) >= LARGE_BATCH else None
        return JSONResponse(out, headers={"X-Reconcile-Rejected": str(rejected)}, background=trim)

    async def extension(request: Request, who: Who, text: str) -> JSONResponse:
        # A record's fields: the same permission and audit as GET /records and the preview.
        who.require("read")
        state = state_of(request)
        ids, props = parse_extend(text)
        if len(ids) > 1:
            state.limiter.take(who.key_id, len(ids) - 1)  # each record a token, as each query

        def run() -> dict[str, Any]:
            found = state.store.get_many(ids)
            rows: dict[str, Any] = {}
            for i in ids:
                rec = found.get(i)
                same = state.matcher.same_entity(rec) if rec is not None and "same_entity" in props else []
                rows[i] = {p: _values(rec, p, same) if rec is not None else [] for p in props}
            detail = {"records": [i for i in ids if i in found], "properties": props, "reconcile_extend": True}
            state.audit(who, "read", [r.name for r in found.values()], detail)
            return {"meta": [{"id": p, "name": EXTEND[p]} for p in props], "rows": rows}

        return JSONResponse(await run_in_threadpool(run))

    @router.get("", summary="Reconciliation manifest (or a batch in ?queries=, an extension in ?extend=)")
    async def get_service(
        request: Request, who: Who, queries: str | None = None, extend: str | None = None
    ) -> JSONResponse:
        if queries is not None:
            return await answer(request, who, queries)
        if extend is not None:
            return await extension(request, who, extend)
        who.require("match")
        root = str(request.base_url).rstrip("/")
        return JSONResponse(manifest(_service_url(request), root))

    @router.post("", summary="Reconcile a batch of queries (form field 'queries') or extend records ('extend')")
    async def post_service(
        request: Request,
        who: Who,
        queries: Annotated[str | None, Form(max_length=1_000_000)] = None,
        extend: Annotated[str | None, Form(max_length=1_000_000)] = None,
    ) -> JSONResponse:
        if queries is not None:
            return await answer(request, who, queries)
        if extend is not None:
            return await extension(request, who, extend)
        raise InvalidInput("a form field queries (a batch) or extend (a data extension) is required", field="queries")

    @router.get("/properties", summary="Properties a data extension offers for a type")
    def properties(who: Who, type: str = "person", limit: Annotated[int | None, Param(ge=0)] = None) -> dict[str, Any]:
        who.require("match")
        out = proposed(type)
        if limit is not None:
            out["properties"] = out["properties"][:limit]
        return out

    # No response_class: the errors stay documented as JSON; the 200 is documented as HTML.
    @router.get("/preview", summary="HTML preview of a record", responses={200: {"content": {"text/html": {}}}})
    def preview(request: Request, who: Who, id: str) -> HTMLResponse:
        # A record's fields: the same permission and audit as GET /records (issue #18: a key
        # without "read" saw name, alias and birth date here, unaudited).
        who.require("read")
        state = state_of(request)
        rec = state.store.get_many([id]).get(id)
        if rec is None:
            raise NotFound(f"no record {id!r}", field="id")
        state.audit(who, "read", [rec.name], {"record": id, "reconcile_preview": True})
        rows = [
            ("Name 名称", rec.name),
            ("Aliases 别名", ", ".join(rec.aliases)),
            ("Type 类型", TYPES[rec.entity_type]),
            ("Office 办公室", rec.office),
            ("Record 记录", rec.record_id),
            ("Birth date 出生日期", rec.birth_date or ""),
        ]
        cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows if v)
        page = (
            '<!doctype html><html><head><meta charset="utf-8"><style>body{font:14px sans-serif;margin:6px}'
            "th{text-align:left;padding-right:1em;color:#555}</style></head>"
            f"<body><table>{cells}</table></body></html>"
        )
        return HTMLResponse(page)

    @router.get("/suggest/type", summary="Suggest entity types")
    def suggest_type(who: Who, prefix: str = "") -> dict[str, Any]:
        who.require("match")
        return _suggest(TYPES, prefix)

    @router.get("/suggest/property", summary="Suggest properties")
    def suggest_property(who: Who, prefix: str = "") -> dict[str, Any]:
        who.require("match")
        return _suggest(PROPERTIES, prefix)


router = APIRouter(prefix="/reconcile", tags=["reconciliation"])
add_routes(router, principal)
keyed_router = APIRouter(prefix="/reconcile/key/{token}", tags=["reconciliation"])
add_routes(keyed_router, key_in_path)
