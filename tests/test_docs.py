"""/docs as a newcomer reads it (issue #15): every operation under a tag, with a real request and a
real answer recorded from the service (tests/api_examples.py), errors in plain words."""

from __future__ import annotations

import json
from typing import Any

import httpx

from api.http.docs import EXAMPLES, TAGS
from tests.api_examples import MATCH_REQUEST, _shrink


def operations(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{m.upper()} {p}": op for p, ops in schema["paths"].items() for m, op in ops.items()}


def examples_in(op: dict[str, Any]) -> list[Any]:
    found = [c["example"] for r in op["responses"].values() for c in r.get("content", {}).values() if "example" in c]
    return found


def test_every_operation_is_tagged_and_has_real_examples(api: httpx.Client) -> None:
    schema = api.get("/openapi.json").json()
    ops = operations(schema)
    recorded = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    assert set(ops) == set(recorded), set(ops) ^ set(recorded)
    assert [t["name"] for t in schema["tags"]] == [t["name"] for t in TAGS]
    names = {t["name"] for t in TAGS}
    for key, op in ops.items():
        assert op.get("tags") and set(op["tags"]) <= names, key
        assert examples_in(op), f"{key}: no response example"
        body = op.get("requestBody", {}).get("content", {})
        if "application/json" in body and "request" in recorded[key]:
            assert body["application/json"]["example"] == recorded[key]["request"]
        for param in op.get("parameters", []):
            if param.get("required"):
                assert "example" in param, (key, param["name"])
    assert '"string"' not in json.dumps([examples_in(op) for op in ops.values()]), "placeholder examples"


def test_the_match_example_is_what_the_service_answers(api: httpx.Client) -> None:
    """On either backend, the documented /match request gets the documented answer."""
    documented = json.loads(EXAMPLES.read_text(encoding="utf-8"))["POST /match"]
    assert documented["request"] == MATCH_REQUEST
    answer = api.post("/match", json=MATCH_REQUEST).json()
    for body in (answer, documented["response"]):
        body.pop("took_ms")
    assert _shrink(answer) == documented["response"]


def test_errors_read_plainly_and_office_codes_take_any_case(api: httpx.Client) -> None:
    r = api.post("/match", json={"queries": [{"name": "陳大文"}], "offices": ["CN-XX"]})
    message = r.json()["error"]["message"]
    assert r.status_code == 422 and "Value error" not in message and "unknown office code(s): CN-XX" in message
    lower = api.post("/match", json={"queries": [{"name": "陳大文", "birth_date": "1971-02-11"}], "offices": ["cn-hk"]})
    assert lower.status_code == 200 and set(lower.json()["results"][0]["offices"]) == {"CN-HK"}
    assert api.get("/records/cn-hk/HK-2024-00001").status_code == 200
