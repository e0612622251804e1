"""The HTTP API through a real HTTP client over loopback: matches, records, stats, errors."""

from __future__ import annotations

import httpx

from tests.backends import Backend


def test_match_finds_the_suspect_in_three_offices(api: httpx.Client) -> None:
    r = api.post("/match", json={"queries": [{"query_id": "q1", "name": "陳大文", "birth_date": "1971-02-11"}]})
    assert r.status_code == 200
    body = r.json()
    [result] = body["results"]
    assert result["query_id"] == "q1" and result["seen"] is True
    assert set(result["offices"]) == {"CN-GD", "CN-HK", "CN-MO"}  # the 1980-born namesake in CN-FJ is not
    assert body["offices"] == {"CN-GD": 1, "CN-HK": 1, "CN-MO": 1}
    top = result["matches"][0]
    assert {"office", "record_id", "entity_type", "name", "score", "explanation"} <= set(top)
    assert any(f["feature"] == "birth_date" for f in top["explanation"])


def test_match_romanized_and_company(api: httpx.Client) -> None:
    queries = [
        {"query_id": "hk", "name": "CHAN Tai Man"},
        {"query_id": "py", "name": "Chen Dawen"},
        {"query_id": "co", "name": "Guangzhou Xinghui Trading Co., Ltd.", "entity_type": "company"},
        {"query_id": "none", "name": "Zhuge Kongming"},
    ]
    results = {r["query_id"]: r for r in api.post("/match", json={"queries": queries}).json()["results"]}
    assert {"CN-GD", "CN-HK"} <= set(results["hk"]["offices"])
    assert {"CN-GD", "CN-HK"} <= set(results["py"]["offices"])
    assert set(results["co"]["offices"]) == {"CN-GD", "CN-HK"}  # not the Quanzhou namesake firm
    assert results["none"]["seen"] is False and results["none"]["matches"] == []


def test_office_filter(api: httpx.Client) -> None:
    r = api.post("/match", json={"queries": [{"name": "CHAN Tai Man"}], "offices": ["CN-GD"]})
    assert set(r.json()["results"][0]["offices"]) == {"CN-GD"}


def test_record_and_same_entity(api: httpx.Client) -> None:
    hit = api.post(
        "/match", json={"queries": [{"name": "CHAN Tai Man", "birth_date": "1971-02-11"}], "offices": ["CN-HK"]}
    )
    m = hit.json()["results"][0]["matches"][0]
    r = api.get(f"/records/{m['office']}/{m['record_id']}")
    assert r.status_code == 200
    body = r.json()
    assert body["record"]["name"] == "CHAN Tai Man"
    assert {"CN-GD", "CN-MO"} <= {s["office"] for s in body["same_entity"]}


def test_stats_health_ready(api: httpx.Client, backend: Backend) -> None:
    stats = api.get("/stats").json()
    assert stats["records"] >= 5000 and len(stats["offices"]) == 11
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz").json()
    assert ready["status"] == "ready" and ready["store"]["backend"] == backend.name


def _error(r: httpx.Response, status: int) -> dict[str, object]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    error: dict[str, object] = body["error"]
    return error


def test_validation_errors_name_the_field(api: httpx.Client) -> None:
    e = _error(api.post("/match", json={"queries": [{"name": ""}]}), 422)
    assert e["field"] == "queries.0.name"
    e = _error(api.post("/match", json={"queries": [{"name": "x", "entity_type": "robot"}]}), 422)
    assert e["field"] == "queries.0.entity_type"
    e = _error(api.post("/match", json={"queries": []}), 422)
    assert e["field"] == "queries"
    e = _error(api.post("/match", json={"queries": [{"name": "x"}], "offices": ["CN-XX"]}), 422)
    assert e["field"] == "offices" and "CN-XX" in str(e["message"])
    e = _error(api.post("/match", json={"queries": [{"name": "陈大文", "birth_date": "31/02/1971"}]}), 422)
    assert e["field"] == "queries.0.birth_date"
    e = _error(api.post("/match", json={"queries": [{"name": "x" * 201}]}), 422)
    assert e["field"] == "queries.0.name"
    e = _error(api.post("/match", json={"queries": [{"name": "x", "surprise": 1}]}), 422)
    assert e["field"] == "queries.0.surprise"


def test_malformed_json_and_wrong_types(api: httpx.Client) -> None:
    e = _error(api.post("/match", content=b"{not json", headers={"Content-Type": "application/json"}), 422)
    assert e["code"] == "invalid_input"
    _error(api.post("/match", json={"queries": "陈大文"}), 422)
    _error(api.post("/match", json=["queries"]), 422)


def test_limits(api: httpx.Client) -> None:
    e = _error(api.post("/match", json={"queries": [{"name": "x"}] * 1001}), 413)
    assert e["code"] == "payload_too_large"
    big = {"queries": [{"name": "陈大文" * 60}] * 400}
    _error(api.post("/match", json=big), 413)


def test_not_found(api: httpx.Client) -> None:
    e = _error(api.get("/records/CN-GD/does-not-exist"), 404)
    assert e["code"] == "not_found"
    _error(api.get("/nowhere"), 404)


def test_openapi_has_examples(api: httpx.Client) -> None:
    spec = api.get("/openapi.json").json()
    assert "/match" in spec["paths"]
    assert "examples" in str(spec["components"]["schemas"]["MatchRequest"])
