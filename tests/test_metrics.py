"""Prometheus metrics and structured logs, through the real app on loopback."""

from __future__ import annotations

import gc
import io
import json
import logging
from pathlib import Path

import httpx

from api.http.collector import EVERY
from api.logs import JsonFormatter
from search.settings import Settings
from tests.backends import Backend, make_tokens
from tests.conftest import Server


def _value(text: str, prefix: str) -> float:
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    assert lines, f"no metric line starts with {prefix!r}"
    return float(lines[0].rsplit(" ", 1)[1])


def test_metrics_count_requests_verdicts_and_uploads(
    backend: Backend, loaded: Settings, sample_files: dict[str, Path], tmp_path: Path
) -> None:
    settings = backend.copy(loaded, sample_files, tmp_path)
    tokens = make_tokens(settings)
    with Server(settings) as server, httpx.Client(base_url=server.url, timeout=60) as c:
        inv = {"Authorization": f"Bearer {tokens['investigator']}"}
        body = {"queries": [{"name": "陳大文", "birth_date": "1971-02-11"}, {"name": "完全陌生的名字"}]}
        for _ in range(3):
            assert c.post("/match", json=body, headers=inv).status_code == 200
        assert c.get("/records/CN-GD/does-not-exist", headers=inv).status_code == 404
        assert c.get("/no/such/path/陳大文").status_code == 404
        admin = {"Authorization": f"Bearer {tokens['office-admin']}"}
        csv = "record_id,name,birth_date\nm1,测试人,1980-01-01\nm2,,1980-01-01\n".encode()
        assert c.post("/offices/CN-GD/records", files={"file": ("x.csv", csv)}, headers=admin).status_code == 200
        m = c.get("/metrics")
    assert m.status_code == 200 and m.headers["content-type"].startswith("text/plain")
    text = m.text
    assert _value(text, 'suspects_http_requests_total{method="POST",route="/match",status="200"}') == 3
    assert _value(text, 'suspects_http_request_duration_seconds_count{method="POST",route="/match"}') == 3
    assert (
        _value(
            text, 'suspects_http_requests_total{method="GET",route="/records/{office}/{record_id:path}",status="404"}'
        )
        == 1
    )
    assert _value(text, 'suspects_http_requests_total{method="GET",route="unmatched",status="404"}') == 1
    assert _value(text, 'suspects_match_queries_total{verdict="seen"}') == 3
    assert _value(text, 'suspects_match_queries_total{verdict="not_seen"}') == 3
    assert _value(text, 'suspects_load_rows_total{outcome="stored"}') == 1
    assert _value(text, 'suspects_load_rows_total{outcome="rejected"}') == 1
    assert "陳大文" not in text and "no/such/path" not in text  # labels are route templates, never input


def test_json_log_lines_carry_the_access_fields() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("test.access")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("%s %s %d", "GET", "/x", 200, extra={"http": {"method": "GET", "route": "/x", "status": 200}})
    finally:
        log.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["message"] == "GET /x 200" and line["level"] == "WARNING" and line["logger"] == "test.access"
    assert line["http"] == {"method": "GET", "route": "/x", "status": 200}
    assert line["time"].endswith("Z")


def test_junk_methods_are_refused_before_they_become_labels(api: httpx.Client) -> None:
    """Any method string used to become a label: 3,000 of them grew /metrics to 62 MB (#18)."""
    assert api.request("JUNK", "/match").status_code == 405
    api.get("/metrics")
    before = len(api.get("/metrics").text)
    for i in range(200):
        r = api.request(f"JUNK{i}", "/match")
        assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    text = api.get("/metrics").text
    assert "JUNK" not in text
    assert len(text) < before + 100, (before, len(text))  # counter values grow by digits, no series


def test_every_200th_request_freezes_what_the_young_collections_left(loaded: Settings) -> None:
    # Paced collection (api/http/collector.py): nothing is frozen on the way (frozen objects are only
    # freed), then the 200th request collects the young generations and freezes the survivors, out
    # of later full collections' sight: among them the responses this test keeps.
    with Server(loaded) as server, httpx.Client(base_url=server.url, timeout=60) as c:
        started = gc.get_freeze_count()
        kept = [c.get("/healthz") for _ in range(EVERY - 1)]
        assert all(r.status_code == 200 for r in kept)
        before = gc.get_freeze_count()
        assert before <= started
        kept.append(c.get("/healthz"))
        frozen = gc.get_freeze_count()
    assert frozen >= before + len(kept)
