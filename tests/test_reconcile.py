"""OpenRefine reconciliation (API 0.2) on loopback, every payload checked against the Community
Group's own JSON schemas (tests/reconciliation_spec/)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SPEC = Path(__file__).parent / "reconciliation_spec"


@lru_cache(maxsize=1)
def _registry() -> Registry[Any]:
    resources = []
    for path in SPEC.glob("*.json"):
        schema = json.loads(path.read_text("utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema, default_specification=DRAFT7)))
    return Registry().with_resources(resources)


def valid(schema_file: str, payload: Any) -> None:
    schema = json.loads((SPEC / schema_file).read_text("utf-8"))
    jsonschema.Draft7Validator(schema, registry=_registry()).validate(payload)


def test_the_schemas_reject_what_they_should() -> None:
    """The validator is live: a result without a score, or a manifest without versions, fails."""
    with pytest.raises(jsonschema.ValidationError):
        valid("reconciliation-result-batch.json", {"q0": {"result": [{"id": "x", "name": "y"}]}})
    with pytest.raises(jsonschema.ValidationError):
        valid("manifest.json", {"name": "x", "identifierSpace": "a", "schemaSpace": "b"})
    with pytest.raises(jsonschema.ValidationError):
        valid("manifest.json", {"versions": ["0.1"], "name": "x", "identifierSpace": "a", "schemaSpace": "b"})


@pytest.mark.parametrize("prefix", ["/reconcile", "/reconcile/key/{token}"])
def test_manifest(api: httpx.Client, tokens: dict[str, str], prefix: str) -> None:
    path = prefix.format(token=tokens["investigator"])
    r = httpx.get(str(api.base_url) + path) if "{token}" in prefix else api.get(path)
    assert r.status_code == 200, r.text
    m = r.json()
    valid("manifest.json", m)
    assert "0.2" in m["versions"]
    assert [t["id"] for t in m["defaultTypes"]] == ["person", "company"]
    assert m["preview"]["url"] == f"{api.base_url}{path}/preview?id={{{{id}}}}"
    assert m["suggest"]["type"]["service_url"] == f"{api.base_url}{path}"


BATCH = {
    "q0": {"query": "CHAN Tai Man", "type": "person", "properties": [{"pid": "birth_date", "v": "1971-02-11"}]},
    "q1": {"query": "Chen Dawen", "type": "person", "limit": 3},
    "q2": {"query": "陳大文", "properties": [{"pid": "office", "v": ["CN-HK", "CN-MO"]}]},
    "q3": {"query": "星辉贸易有限公司", "type": ["company"]},
    "q4": {"query": "完全不存在的名字甲乙丙", "type": "person"},
    "q5": {"query": "CHAN Tai Man", "properties": [{"pid": "birth_date", "v": "not a date"}]},
}


def test_batch_results_follow_the_schema_and_the_matcher(api: httpx.Client) -> None:
    valid("reconciliation-query-batch.json", BATCH)
    r = api.post("/reconcile", data={"queries": json.dumps(BATCH, ensure_ascii=False)})
    assert r.status_code == 200, r.text
    out = r.json()
    valid("reconciliation-result-batch.json", out)
    assert set(out) == set(BATCH)
    q0 = out["q0"]["result"]
    assert q0[0]["match"] is True and q0[0]["score"] == 100.0
    assert {c["id"].split(":")[0] for c in q0 if c["score"] >= 80} >= {"CN-GD", "CN-HK", "CN-MO"}
    assert sum(c["match"] for c in q0) == 1  # only the best candidate auto-matches
    assert len(out["q1"]["result"]) <= 3
    assert {c["id"].split(":")[0] for c in out["q2"]["result"]} <= {"CN-HK", "CN-MO"}
    assert out["q3"]["result"][0]["type"][0]["id"] == "company"
    assert out["q4"]["result"] == [] or not any(c["match"] for c in out["q4"]["result"])
    assert out["q5"]["result"] == [] and r.headers["x-reconcile-rejected"] == "1"
    # The same verdicts as /match: what /match reports first is what OpenRefine auto-matches.
    m = api.post("/match", json={"queries": [{"name": "CHAN Tai Man", "birth_date": "1971-02-11"}]}).json()
    best = m["results"][0]["matches"][0]
    assert q0[0]["id"] == f"{best['office']}:{best['record_id']}"


def test_get_batch_and_keyed_url(api: httpx.Client, tokens: dict[str, str]) -> None:
    q = json.dumps({"a": {"query": "Chen Dawen"}})
    r = api.get("/reconcile", params={"queries": q})
    valid("reconciliation-result-batch.json", r.json())
    keyed = httpx.post(f"{api.base_url}/reconcile/key/{tokens['investigator']}", data={"queries": q})
    assert keyed.json() == r.json()


@pytest.mark.parametrize(
    ("queries", "field"),
    [
        ("{not json", "queries"),
        ("[]", "queries"),
        ('{"a": "x"}', "queries.a"),
        ('{"a": {"query": 3}}', "queries.a.query"),
        ('{"a": {"query": "x", "properties": [{"pid": "shoe_size", "v": 9}]}}', "queries.a.properties"),
        ('{"a": {"query": "x", "properties": [{"pid": "office", "v": "CN-XX"}]}}', "queries.a.properties"),
    ],
)
def test_bad_batches_name_the_problem(api: httpx.Client, queries: str, field: str) -> None:
    r = api.post("/reconcile", data={"queries": queries})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == field


def test_preview_and_suggest(api: httpx.Client) -> None:
    p = api.get("/reconcile/preview", params={"id": "CN-HK:HK-2024-00001"})
    assert p.status_code == 200 and p.headers["content-type"].startswith("text/html")
    assert "CHAN Tai Man" in p.text and "1971-02-11" in p.text
    assert api.get("/reconcile/preview", params={"id": "CN-HK:nope"}).status_code == 404
    types = api.get("/reconcile/suggest/type", params={"prefix": "comp"}).json()
    valid("suggest-types-response.json", types)
    assert [t["id"] for t in types["result"]] == ["company"]
    props = api.get("/reconcile/suggest/property", params={"prefix": "birth"}).json()
    valid("suggest-properties-response.json", props)
    assert [p["id"] for p in props["result"]] == ["birth_date"]
    everything = api.get("/reconcile/suggest/property").json()
    assert {p["id"] for p in everything["result"]} == {"id_number", "birth_date", "gender", "office"}


def test_reconcile_needs_a_key_with_match(api: httpx.Client, tokens: dict[str, str]) -> None:
    base = str(api.base_url)
    assert httpx.get(f"{base}/reconcile").status_code == 401
    assert httpx.get(f"{base}/reconcile/key/sus_bad_key").status_code == 401
    admin = httpx.get(f"{base}/reconcile/key/{tokens['office-admin']}")
    assert admin.status_code == 403
    html_escape = httpx.get(f"{base}/reconcile/key/<script>/preview", params={"id": "x"})
    assert html_escape.status_code == 401 and "<script>" not in html_escape.text.replace("\\u003c", "")


def test_preview_needs_read_and_is_audited(api: httpx.Client, tokens: dict[str, str]) -> None:
    """A system key may match but not read records: the preview refuses it; an investigator's
    preview is in the audit trail like GET /records (issue #18)."""
    base = str(api.base_url)
    record = "CN-HK:HK-2024-00001"
    system = httpx.get(f"{base}/reconcile/key/{tokens['system']}/preview", params={"id": record})
    assert system.status_code == 403 and "1971" not in system.text
    assert api.get("/reconcile/preview", params={"id": record}).status_code == 200
    auditor = {"Authorization": f"Bearer {tokens['auditor']}"}
    events = api.get("/audit", params={"q": "reconcile_preview"}, headers=auditor).json()
    assert any(e["action"] == "read" and e["detail"].get("record") == record for e in events), events


def test_data_extension_adds_the_records_fields_and_their_same_entity(api: httpx.Client) -> None:
    """OpenRefine's "add columns from reconciled values": the manifest points at the property
    proposals, and an extension answers each record's fields and, as GET /records does, the other
    offices' records the scorer judges to be the same entity (schema-checked both ways)."""
    manifest = api.get("/reconcile").json()
    assert manifest["extend"]["propose_properties"]["service_path"] == "/properties"
    people = api.get("/reconcile/properties", params={"type": "person"}).json()
    valid("data-extension-property-proposal.json", people)
    assert {"name", "office", "birth_date", "same_entity"} <= {p["id"] for p in people["properties"]}
    companies = api.get("/reconcile/properties", params={"type": "company", "limit": 50}).json()
    assert "birth_date" not in {p["id"] for p in companies["properties"]}
    assert api.get("/reconcile/properties", params={"type": "ship"}).json()["error"]["field"] == "type"
    assert api.get("/reconcile/properties", params={"limit": 2}).json()["properties"] == people["properties"][:2]
    negative = api.get("/reconcile/properties", params={"limit": -1})
    assert negative.status_code == 422 and "limit" in negative.json()["error"]["field"]

    record, missing = "CN-HK:HK-2024-00001", "CN-HK:no-such-record"
    query = {"ids": [record, missing], "properties": [{"id": p} for p in ("name", "birth_date", "same_entity")]}
    valid("data-extension-query.json", query)
    r = api.post("/reconcile", data={"extend": json.dumps(query)})
    assert r.status_code == 200, r.text
    out = r.json()
    valid("data-extension-response.json", out)
    assert [m["id"] for m in out["meta"]] == ["name", "birth_date", "same_entity"]
    row = out["rows"][record]
    assert row["name"] == [{"str": "CHAN Tai Man"}] and row["birth_date"] == [{"str": "1971-02-11"}]
    shown = api.get("/records/CN-HK/HK-2024-00001").json()["same_entity"]
    assert [v["id"] for v in row["same_entity"]] == [f"{m['office']}:{m['record_id']}" for m in shown]
    assert row["same_entity"], "the sample holds Chan Tai Man in other offices"
    assert out["rows"][missing] == {"name": [], "birth_date": [], "same_entity": []}
    again = api.get("/reconcile", params={"extend": json.dumps(query)})
    assert again.json() == out


@pytest.mark.parametrize(
    ("extend", "field"),
    [
        ("{not json", "extend"),
        ("[]", "extend"),
        ('{"ids": [], "properties": [{"id": "name"}]}', "extend.ids"),
        ('{"ids": [3], "properties": [{"id": "name"}]}', "extend.ids"),
        ('{"ids": ["CN-HK:x"], "properties": []}', "extend.properties"),
        ('{"ids": ["CN-HK:x"], "properties": [{"id": "name"}, {"id": "shoe_size"}]}', "extend.properties.1"),
    ],
)
def test_bad_extensions_name_the_problem(api: httpx.Client, extend: str, field: str) -> None:
    r = api.post("/reconcile", data={"extend": extend})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field


def test_an_extension_needs_read_and_is_audited(api: httpx.Client, tokens: dict[str, str]) -> None:
    """Record fields over the extension are what GET /records shows: a key that may only match is
    refused, and a read is in the audit trail."""
    base = str(api.base_url)
    query = json.dumps({"ids": ["CN-HK:HK-2024-00001"], "properties": [{"id": "birth_date"}]})
    system = httpx.post(f"{base}/reconcile/key/{tokens['system']}", data={"extend": query})
    assert system.status_code == 403 and "1971" not in system.text
    keyed = httpx.post(f"{base}/reconcile/key/{tokens['investigator']}", data={"extend": query})
    assert keyed.json()["rows"]["CN-HK:HK-2024-00001"]["birth_date"] == [{"str": "1971-02-11"}]
    auditor = {"Authorization": f"Bearer {tokens['auditor']}"}
    events = api.get("/audit", params={"q": "reconcile_extend"}, headers=auditor).json()
    assert any(e["action"] == "read" and "CN-HK:HK-2024-00001" in e["detail"]["records"] for e in events), events
    assert api.post("/reconcile", data={}).json()["error"]["field"] == "queries"
