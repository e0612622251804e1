"""Every request body the Elasticsearch backend sends, validated against the official API specification.

The backend talks to the session's real cluster through :class:`RecordingNode`, the client's own
HTTP node with one addition: it keeps a copy of each request it sends on. Everything the backend
sends is then checked against the specification (the server itself is lenient about some shapes
the specification does not model, e.g. ``term`` shorthands).
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from elastic_transport import AiohttpHttpNode, HttpHeaders, Urllib3HttpNode
from elastic_transport._node._base import NodeApiResponse
from elastic_transport.client_utils import DEFAULT, DefaultType
from elasticsearch import AsyncElasticsearch, Elasticsearch

from indexer.keys import KEY_WEIGHTS, key_type, profile_keys
from indexer.records import Record, profile
from search.access.elastic import ElasticsearchAccess
from search.access.keys import new_key, new_session
from search.access.store import AuditEvent, AuditFilter
from search.matching.query import Query
from search.screening.elastic import ElasticsearchJobs
from search.screening.jobs import Job
from search.screening.watchlist import BadRow
from search.storage.base import Store, prepare
from search.storage.elastic import ElasticsearchStore
from search.storage.elastic_async import AsyncCandidates
from search.storage.elastic_bodies import candidate_query, document_json
from search.storage.elastic_client import load_mapping
from search.storage.sqlite import SQLiteStore
from tests.backends import Backend

SPEC_PATH = Path(__file__).parent / "es_spec" / "es-8.17-openapi-subset.json"

# Which specification schema a request body must satisfy, by (method, path shape).
BODY_SCHEMAS = {
    "create": "#/paths/~1{index}/put/requestBody/content/application~1json/schema",
    "search": "#/components/requestBodies/search/content/application~1json/schema",
    "msearch": "#/components/requestBodies/msearch/content/application~1json/schema",
    "bulk": "#/components/requestBodies/bulk/content/application~1json/schema",
    "update_aliases": "#/paths/~1_aliases/post/requestBody/content/application~1json/schema",
}


def _any_of(node: Any) -> Any:
    if isinstance(node, dict):
        return {("anyOf" if k == "oneOf" else k): _any_of(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_any_of(v) for v in node]
    return node


@lru_cache(maxsize=1)
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = _any_of(json.loads(SPEC_PATH.read_text("utf-8")))
    return spec


def validate(kind: str, body: Any) -> None:
    schema = copy.copy(_spec())
    schema["$ref"] = BODY_SCHEMAS[kind]
    jsonschema.Draft7Validator(schema).validate(body)


def _record(method: str, target: str, body: bytes | None) -> None:
    path = target.split("?")[0]
    parsed: Any = None
    if body:
        text = body.decode("utf-8")
        if path.endswith(("_bulk", "_msearch")):
            parsed = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            parsed = json.loads(text)
    CAPTURED.append((method, path, parsed))


CAPTURED: list[tuple[str, str, Any]] = []


class RecordingNode(Urllib3HttpNode):
    """The client's urllib3 node, keeping a copy of each request before sending it on."""

    def perform_request(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: HttpHeaders | None = None,
        request_timeout: float | DefaultType | None = DEFAULT,
    ) -> NodeApiResponse:
        _record(method, target, body)
        return super().perform_request(method, target, body, headers, request_timeout)


class AsyncRecordingNode(AiohttpHttpNode):
    """The async twin: the client's aiohttp node, keeping a copy of each request."""

    async def perform_request(  # type: ignore[override]  # elastic_transport types its async nodes as sync
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: HttpHeaders | None = None,
        request_timeout: float | DefaultType | None = DEFAULT,
    ) -> NodeApiResponse:
        _record(method, target, body)
        return await super().perform_request(method, target, body, headers, request_timeout)


@pytest.fixture()
def captured() -> list[tuple[str, str, Any]]:
    CAPTURED.clear()
    return CAPTURED


@pytest.fixture()
def prefix(es_url: str, tmp_path: Path) -> Iterator[str]:
    """A fresh index prefix on the real cluster, removed afterwards."""
    backend = Backend("elasticsearch", es_url)
    yield backend.settings(tmp_path).es_index_prefix
    backend.drop_all()


def _client(es_url: str) -> Elasticsearch:
    return Elasticsearch(es_url, node_class=RecordingNode, request_timeout=30)


def _store(es_url: str, prefix: str) -> ElasticsearchStore:
    return ElasticsearchStore(prefix=prefix, client=_client(es_url))


def _records() -> list[Record]:
    return [
        Record("CN-GD", "1", "person", "陈大文", ["CHEN Dawen"], "11010519491231002X", "1971-02-11", "male"),
        Record("CN-HK", "2", "person", "CHAN Tai Man", ["陳大文"], "A123456(3)", "1971", None),
        Record("CN-GD", "3", "company", "广州市星辉贸易有限公司", [], "914403001922038216", attributes={"x": 1}),
    ]


def _kind(method: str, path: str) -> str | None:
    if method == "PUT" and path.count("/") == 1 and not path.startswith("/_"):
        return "create"
    if path.endswith("/_search"):
        return "search"
    if path.endswith("/_msearch"):
        return "msearch"
    if path.endswith("/_bulk"):
        return "bulk"
    if path == "/_aliases":
        return "update_aliases"
    return None


def validate_all(captured: list[tuple[str, str, Any]]) -> dict[str, int]:
    """Validate every captured body that has a schema; how many of each kind there were."""
    kinds: dict[str, int] = {}
    for method, path, body in captured:
        kind = _kind(method, path)
        if kind is not None and body is not None:
            validate(kind, body)
            kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def test_every_request_body_matches_the_specification(
    captured: list[tuple[str, str, Any]], es_url: str, prefix: str
) -> None:
    store = _store(es_url, prefix)
    prepared = [prepare(r) for r in _records()]
    store.upsert(prepared)
    with store.bulk():
        store.upsert(prepared)

    def fill(target: Store) -> None:
        target.upsert(prepared)

    store.reindex(fill)
    assert store.rekey(workers=1).records == len(prepared)  # reads its documents page by page
    store.candidates(profile_keys(profile("person", "Chen Dawen")), "person", ["CN-GD", "CN-HK"], 50)
    store.candidates_many([(profile_keys(profile("person", "陈大文")), "person")] * 3, None, 50)
    assert store.counts() == {"CN-GD": {"person": 1, "company": 1}, "CN-HK": {"person": 1}}
    store.ping()
    store.close()
    kinds = validate_all(captured)
    assert set(kinds) == set(BODY_SCHEMAS), kinds
    assert kinds["create"] >= 2 and kinds["update_aliases"] >= 1
    assert any(isinstance(body, dict) and "search_after" in body for _, _, body in captured)


def test_specification_rejects_a_wrong_body() -> None:
    with pytest.raises(jsonschema.ValidationError):
        validate("search", {"size": "ten"})
    with pytest.raises(jsonschema.ValidationError):
        validate("create", {"mappings": {"dynamic": "sometimes"}})


def test_mapping_is_strict_and_covers_every_document_field() -> None:
    mapping = load_mapping("records")
    props = mapping["mappings"]["properties"]
    assert mapping["mappings"]["dynamic"] == "strict"
    assert mapping["mappings"]["_source"]["excludes"] == ["keys"]
    for rec in _records():
        item = prepare(rec)
        doc = json.loads(document_json(item))
        assert set(doc) <= set(props)
        assert {k: doc[k] for k in rec.to_dict()} == rec.to_dict() and doc["keys"] == list(item.keys)
    validate("create", mapping)


def test_boosts_equal_sqlite_weights_for_every_key_type(tmp_path: Path) -> None:
    """The ES score of a candidate is the sum of the boosts of its shared keys; SQLite sums the stored
    weights. Both come from KEY_WEIGHTS, so both rank candidates identically."""
    seen_types: set[str] = set()
    sqlite = SQLiteStore(tmp_path / "w.db")
    for rec in _records():
        item = prepare(rec)
        sqlite.upsert([item])
        body = candidate_query(item.keys, rec.entity_type, None, 10)
        for clause in body["query"]["bool"]["should"]:
            key = clause["constant_score"]["filter"]["term"]["keys"]["value"]
            assert clause["constant_score"]["boost"] == KEY_WEIGHTS[key_type(key)]
            seen_types.add(key_type(key))
        assert sqlite.keys_of(rec.office, rec.record_id) == item.keys
    sqlite.close()
    assert {"id", "n", "py", "wg", "ct", "cn", "cb"} <= seen_types


def test_access_index_and_search_bodies_match_the_specification(
    captured: list[tuple[str, str, Any]], es_url: str, prefix: str
) -> None:
    access = ElasticsearchAccess(prefix=prefix, client=_client(es_url))
    key, _ = new_key("CN-GD", "investigator", "desk")
    access.add_key(key)
    access.list_keys("CN-GD")
    access.record(AuditEvent("match", key.key_id, "CN-GD", "investigator", "127.0.0.1", ["陈大文"], {"results": []}))
    found = access.events(AuditFilter("CN-GD", key.key_id, "2020-01-01", "2100-01-01", "陈大文", 100))
    session, _ = new_session(key.key_id, 1.0)
    access.add_session(session)
    assert access.end_session(session.session_id, "2030-01-01T00:00:00Z")
    ended = access.get_session(session.session_id)
    access.close()
    assert [e.action for e in found] == ["match"] and ended is not None and ended.ended_at is not None
    kinds = validate_all(captured)
    assert kinds == {"create": 3, "search": 2}


def test_screening_job_bodies_match_the_specification(
    captured: list[tuple[str, str, Any]], es_url: str, prefix: str
) -> None:
    jobs = ElasticsearchJobs(prefix=prefix, client=_client(es_url))
    job = Job("j1", "CN-GD", "k1", "w.csv", 2, 1, created_at="2026-11-25T00:00:00+00:00")
    jobs.create(job, iter([[(2, Query("陈大文", "person", "a")), (3, BadRow(3, "b", "name is empty"))]]))
    assert [j.job_id for j in jobs.list("CN-GD")] == ["j1"]
    claimed = jobs.claim("runner-1", 30, 0.0)
    assert claimed is not None and claimed.job_id == "j1"
    pending = jobs.pending_chunk("j1")
    assert pending is not None and pending[0] == 0
    jobs.close()
    kinds = validate_all(captured)
    assert kinds == {"create": 2, "bulk": 1, "search": 2}
    bulk = next(body for _, path, body in captured if path.endswith("/_bulk"))
    doc = bulk[1]
    assert set(doc) <= set(load_mapping_file("screening-chunks.json")["mappings"]["properties"])
    header = next(body for m, path, body in captured if m == "PUT" and path == f"/{prefix}-screenings/_doc/j1")
    assert set(header) == set(load_mapping_file("screenings.json")["mappings"]["properties"])


def load_mapping_file(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((Path(__file__).parent.parent / "mappings" / name).read_text("utf-8"))
    return data


def test_async_read_path_sends_the_same_valid_bodies(
    captured: list[tuple[str, str, Any]], es_url: str, prefix: str
) -> None:
    store = _store(es_url, prefix)
    store.upsert([prepare(r) for r in _records()])
    store.es.indices.refresh(index=store.alias)
    reader = AsyncCandidates(es_url, prefix)
    reader.es = AsyncElasticsearch(es_url, node_class=AsyncRecordingNode)
    wanted = [(profile_keys(profile("person", n)), "person") for n in ("陈大文", "CHAN Tai Man")]

    async def run() -> list[list[str]]:
        try:
            found = await reader.candidates_many(wanted, ["CN-GD", "CN-HK"], 50)
            assert (await reader.ping())["backend"] == "elasticsearch"
            return [[c.id for c in cands] for cands in found]
        finally:
            await reader.close()

    async_ids = asyncio.run(run())
    bodies = [body for method, path, body in captured if path.endswith("/_msearch")]
    assert len(bodies) == 1
    validate("msearch", bodies[0])
    sync_ids = [[c.id for c in cands] for cands in store.candidates_many(wanted, ["CN-GD", "CN-HK"], 50)]
    store.close()
    sync_bodies = [body for method, path, body in captured if path.endswith("/_msearch")]
    assert sync_bodies[-1] == bodies[0]  # the async and sync paths send the same search
    assert async_ids == sync_ids and {"CN-GD:1", "CN-HK:2"} <= {i for ids in async_ids for i in ids}
