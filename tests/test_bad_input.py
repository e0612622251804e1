"""Hostile and odd input to the API: always a JSON answer (2xx or 4xx naming the field), never a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

ODD_NAMES = [
    "😀😀😀",  # emoji only
    "陈大文😀",  # emoji inside a name
    "\u202eCHAN Tai Man\u202c",  # right-to-left override around a name
    "محمد علي",  # Arabic script
    "陈\u200b大\u200d文",  # zero-width characters
    "CHAN\tTai\nMan",  # control characters
    "Ｃｈａｎ　Ｔａｉ　Ｍａｎ",  # full-width letters and space
    "陳" * 200,  # at the length limit
    "'; DROP TABLE records; --",
    "<script>alert(1)</script>",
    "\u0000陈大文",  # NUL
    "﷽",  # one code point that renders as a long ligature
]


@pytest.mark.parametrize("name", ODD_NAMES, ids=range(len(ODD_NAMES)))
def test_odd_names_are_answered(api: httpx.Client, name: str) -> None:
    r = api.post("/match", json={"queries": [{"name": name}]})
    assert r.status_code in (200, 422), r.text
    body = r.json()
    if r.status_code == 422:
        assert body["error"]["field"] == "queries.0.name"
    else:
        assert body["results"][0]["seen"] in (True, False)


@pytest.mark.parametrize("name", ["\ud800", "陈\udfff大文"], ids=["lone-high", "lone-low"])
def test_lone_surrogates_are_refused_with_the_field(api: httpx.Client, name: str) -> None:
    # Valid JSON (an escaped surrogate), but no valid Unicode text: refused, not a crash.
    raw = json.dumps({"queries": [{"name": name}]}).encode()
    r = api.post("/match", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "queries.0.name"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{", "body"),
        (b"", "body"),
        (b"[]", "body"),
        (b'{"queries": "x"}', "queries"),
        (b'{"queries": []}', "queries"),
        (b'{"queries": [{"name": 5}]}', "queries.0.name"),
        (b'{"queries": [{"name": ""}]}', "queries.0.name"),
        (b'{"queries": [{"name": "   "}]}', "queries.0.name"),
        (b'{"queries": [{"name": "x", "entity_type": "ship"}]}', "queries.0.entity_type"),
        (b'{"queries": [{"name": "x", "birth_date": "31/31/1999"}]}', "queries.0.birth_date"),
        (b'{"queries": [{"name": "x"}], "limit": -1}', "limit"),
        (b'{"queries": [{"name": "x"}], "offices": ["XX"]}', "offices"),
        (b'{"queries": [{"name": "x", "extra": 1}]}', "queries.0.extra"),
        (b'\xff\xfe{"queries": []}', "body"),  # not UTF-8: 400, the body cannot be parsed at all
    ],
)
def test_malformed_bodies_name_the_field(api: httpx.Client, body: bytes, field: str) -> None:
    r = api.post("/match", content=body, headers={"content-type": "application/json"})
    assert r.status_code == (400 if body.startswith(b"\xff") else 422), r.text
    assert r.json()["error"]["field"] == field


def test_ten_thousand_character_name(api: httpx.Client) -> None:
    r = api.post("/match", json={"queries": [{"name": "陈" * 10_000}]})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "queries.0.name"
    assert "at most" in r.json()["error"]["message"]


def test_batch_over_the_limit_and_oversized_body(api: httpx.Client) -> None:
    r = api.post("/match", json={"queries": [{"name": "x"}] * 1001})
    assert r.status_code == 413 and r.json()["error"]["field"] == "queries"
    big = b'{"queries": [{"name": "' + b"x" * 300_000 + b'"}]}'
    r = api.post("/match", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["field"] == "body"


def test_wrong_content_type_and_method(api: httpx.Client) -> None:
    r = api.post("/match", content=b"name=x", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 422
    r = api.get("/match")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


def test_odd_path_parameters(api: httpx.Client) -> None:
    for path in (
        "/records/CN-GD/%00",
        "/records/CN-GD/" + "x" * 5000,
        "/records/%E2%80%AE/1",
        "/records/CN-GD/%F0%9F%98%80",
    ):
        r = api.get(path)
        assert r.status_code in (404, 422), (path, r.text)
        assert "error" in r.json()


def test_chunked_body_without_length_is_refused(api: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"queries": [{"name": "'
        yield b"x" * 300_000
        yield b'"}]}'

    r = api.post("/match", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 411 and r.json()["error"]["field"] == "body"


def test_inputs_that_were_plain_text_500s(api: httpx.Client, tokens: dict[str, str]) -> None:
    """Each of these answered a plain-text 500 (issue #18): now a 4xx in the one JSON error shape."""
    deep = "[" * 3000 + "]" * 3000
    batches = [
        '{"q0": {"query": "陳大文", "limit": NaN}}',
        '{"q0": {"query": "陳大文", "limit": 1e400}}',
        '{"q0": {"query": "陳大文", "limit": -Infinity}}',
        '{"q0": {"query": "陳大文", "properties": 7}}',
        '{"q0": {"query": "陳大文", "properties": "birth_date"}}',
        deep,
    ]
    for text in batches:
        r = api.post("/reconcile", data={"queries": text})
        assert 400 <= r.status_code < 500, (text[:60], r.status_code, r.text[:200])
        assert set(r.json()) == {"error"} and r.json()["error"]["field"].startswith("queries"), r.text[:200]
    # A type that is no type is ignored (the name is searched as both), not a crash.
    odd_type = api.post("/reconcile", data={"queries": '{"q0": {"query": "陳大文", "type": [{}]}}'})
    assert odd_type.status_code == 200 and odd_type.json()["q0"]["result"]
    admin = {"Authorization": f"Bearer {tokens['office-admin']}"}
    for name in ("cn-gd.csv\x00.txt", "cn-gd." + "x" * 300):
        files = {"file": (name, b"a,b\n1,2\n", "text/csv")}
        r = api.post("/offices/CN-GD/records", files=files, headers=admin)
        assert r.status_code in (400, 422) and r.json()["error"]["field"] == "file", r.text[:200]
