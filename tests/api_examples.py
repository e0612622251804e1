"""Record the examples that ``/docs`` shows: real requests to the real service on the sample store.

    python -m tests.api_examples        # rewrites api/http/examples.json

Every operation of the OpenAPI schema gets the request it was called with (JSON body, form field,
path and query parameters) and the status and body the service answered. Nothing is written by
hand: a changed answer shape shows up as a diff of that file, and tests/test_docs.py checks that the
file covers every operation and that its /match example is still what the service answers.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from indexer.intake.offices import load_profile
from indexer.synth.offices import sample_records, write_office_files
from search.ingest import load_file
from search.settings import Settings
from search.storage.sqlite import SQLiteStore
from tests.backends import make_tokens
from tests.conftest import Server

# The recorder's call: role, method, path template, path values, then httpx's request arguments.
Call = Callable[..., dict[str, Any]]
OUT = Path(__file__).parent.parent / "api" / "http" / "examples.json"
MATCH_REQUEST = {"queries": [{"query_id": "q1", "name": "陳大文"}], "limit": 5}
UPLOAD_CSV = "编号,类型,姓名/名称,出生日期\nGD-DOC-1,个人,李志强,1985-03-09\nGD-DOC-2,个人,,\n"


def sample_settings(folder: Path) -> Settings:
    """The sample offices loaded into a new SQLite store in ``folder``."""
    # One try per webhook delivery: the example's receiver is nobody, and its delivery goes dead at once.
    settings = Settings(store=folder / "suspects.db", rate_limit_burst=1_000_000, webhook_max_attempts=1)
    store = SQLiteStore(settings.store)
    for office, path in write_office_files(folder / "sample", sample_records()).items():
        load_file(store, path, office, load_profile(office.lower()), None, 1)
    store.close()
    return settings


def _shrink(value: Any, depth: int = 0) -> Any:
    """Long lists cut to their first two items: an example shows the shape, not every row."""
    if isinstance(value, list):
        return [_shrink(v, depth + 1) for v in value[:2]]
    if isinstance(value, dict):
        return {k: _shrink(v, depth + 1) for k, v in value.items()}
    return value


def record(client: httpx.Client, tokens: dict[str, str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}

    def call(role: str, method: str, template: str, where: dict[str, str] | None = None, **kw: Any) -> dict[str, Any]:
        path = template.format(**(where or {}), token=tokens[role])
        r = client.request(method, path, headers={"Authorization": f"Bearer {tokens[role]}"}, **kw)
        is_json = r.headers.get("content-type", "").startswith("application/json")
        body: Any = r.json() if is_json else r.text[:600]
        entry: dict[str, Any] = {"status": r.status_code, "response": _shrink(body)}
        if "json" in kw:
            entry["request"] = kw["json"]
        if "data" in kw:
            entry["form"] = kw["data"]
        if "params" in kw:
            entry["query"] = kw["params"]
        if where:
            entry["path"] = where
        if "{token}" in template:  # the key is in the URL (OpenRefine); never print a real one
            entry["path"] = {**entry.get("path", {}), "token": "sus_<key id>_<secret>"}
        out[f"{method} {template}"] = entry
        return body if isinstance(body, dict) else {}

    call("investigator", "POST", "/match", json=MATCH_REQUEST)
    call("investigator", "GET", "/records/{office}/{record_id}", {"office": "CN-HK", "record_id": "HK-2024-00001"})
    call("investigator", "GET", "/stats")
    call("investigator", "GET", "/healthz")
    call("investigator", "GET", "/readyz")
    upload = {"file": ("cn-gd-update.csv", UPLOAD_CSV.encode(), "text/csv")}
    call("office-admin", "POST", "/offices/{office}/records", {"office": "CN-GD"}, files=upload)
    call(
        "office-admin", "DELETE", "/offices/{office}/records/{record_id}", {"office": "CN-GD", "record_id": "GD-DOC-1"}
    )
    made = call(
        "office-admin", "POST", "/keys", json={"role": "investigator", "label": "desk 3", "expires_in_days": 90}
    )
    call("office-admin", "GET", "/keys", params={})
    call("office-admin", "DELETE", "/keys/{key_id}", {"key_id": made["key_id"]})
    call("auditor", "GET", "/audit", params={"q": "陈大文", "limit": "2"})
    rows = {"rows": [{"query_id": "w1", "name": "CHAN Tai Man"}, {"query_id": "w2", "name": "Zhuge Kongming"}]}
    job = call("analyst", "POST", "/screenings", json=rows)
    deadline = time.monotonic() + 60  # the runner thread finishes two rows in well under a second
    while time.monotonic() < deadline:
        status = client.get(f"/screenings/{job['id']}", headers={"Authorization": f"Bearer {tokens['analyst']}"})
        if status.json()["status"] == "done":
            break
    call("analyst", "GET", "/screenings/{job_id}", {"job_id": job["id"]})
    call("analyst", "GET", "/screenings", params={})
    call("analyst", "GET", "/screenings/{job_id}/results", {"job_id": job["id"]}, params={"format": "jsonl"})
    call("analyst", "DELETE", "/screenings/{job_id}", {"job_id": job["id"]})
    record_watching(call, client, tokens)
    batch = json.dumps({"q0": {"query": "CHAN Tai Man", "type": "person", "limit": 2}}, ensure_ascii=False)
    for base in ("/reconcile", "/reconcile/key/{token}"):
        call("investigator", "GET", base)
        call("investigator", "POST", base, data={"queries": batch})
        call("investigator", "GET", base + "/preview", params={"id": "CN-HK:HK-2024-00001"})
        call("investigator", "GET", base + "/suggest/type", params={"prefix": "per"})
        call("investigator", "GET", base + "/suggest/property", params={"prefix": "birth"})
        call("investigator", "GET", base + "/properties", params={"type": "person"})
    return out


def record_watching(call: Call, client: httpx.Client, tokens: dict[str, str]) -> None:
    """Standing watchlists, alerts and webhooks: the hook first, so the alerts have deliveries."""
    hook = call("office-admin", "POST", "/webhooks", json={"url": "http://127.0.0.1:9/suspects-alerts"})
    wl = call("analyst", "POST", "/watchlists", json={"name": "Guangzhou raids, winter 2026"})
    where = {"list_id": wl["list_id"]}
    entry = {"name": "CHAN Tai Man", "entity_type": "person", "birth_date": "1971-02-11", "reference": "GD-2026-0117"}
    added = call("analyst", "POST", "/watchlists/{list_id}/entries", where, json={"entries": [entry]})
    upload = {
        "file": ("watch.csv", "query_id,name\nGD-2026-0118,星辉贸易有限公司\nGD-2026-0119,\n".encode(), "text/csv")
    }
    call("analyst", "POST", "/watchlists/{list_id}/upload", where, files=upload)
    call("analyst", "GET", "/watchlists", params={})
    call("analyst", "GET", "/watchlists/{list_id}", where)
    one = {**where, "entry_id": added["entries"][0]["entry_id"]}
    call(
        "analyst", "PATCH", "/watchlists/{list_id}/entries/{entry_id}", one, json={"note": "seen at the Baiyun market"}
    )
    feed = call("analyst", "GET", "/alerts", params={"after": "0", "limit": "2"})
    first = {"alert_id": str(feed["alerts"][0]["alert_id"])}
    call("analyst", "GET", "/alerts/{alert_id}", first)
    call(
        "analyst",
        "POST",
        "/alerts/{alert_id}/{action}",
        {**first, "action": "acknowledge"},
        json={"reason": "case opened"},
    )
    admin = {"Authorization": f"Bearer {tokens['office-admin']}"}
    deadline = time.monotonic() + 60  # nothing listens on port 9: one refused try and the delivery is dead
    while time.monotonic() < deadline:
        if client.get("/webhooks/deliveries", params={"status": "dead"}, headers=admin).json():
            break
    call("office-admin", "GET", "/webhooks", params={})
    log = call_list(client, admin)
    call("office-admin", "GET", "/webhooks/deliveries", params={"status": "dead", "limit": "2"})
    call("office-admin", "POST", "/webhooks/deliveries/{delivery_id}/redeliver", {"delivery_id": str(log)})
    call("analyst", "DELETE", "/watchlists/{list_id}/entries/{entry_id}", one)
    call("analyst", "DELETE", "/watchlists/{list_id}", where)
    call("office-admin", "DELETE", "/webhooks/{hook_id}", {"hook_id": hook["hook_id"]})


def call_list(client: httpx.Client, headers: dict[str, str]) -> int:
    """The id of the first dead delivery."""
    dead = client.get("/webhooks/deliveries", params={"status": "dead"}, headers=headers).json()
    return int(dead[0]["delivery_id"])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = sample_settings(Path(tmp))
        tokens = make_tokens(settings)
        with Server(settings) as server, httpx.Client(base_url=server.url, timeout=60) as client:
            examples = record(client, tokens)
    OUT.write_text(json.dumps(examples, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(examples)} operations recorded in {OUT}")


if __name__ == "__main__":
    main()
