"""Keys, roles, the audit trail and the abuse limits, through the real HTTP API on loopback."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from api.http.app import create_app
from search.access.factory import open_access
from search.access.keys import ROLES, new_key
from search.access.sqlite import SQLiteAccess
from search.access.store import AuditEvent
from search.clock import iso, now_utc
from search.settings import Settings
from tests.backends import Backend, copy_store, make_tokens
from tests.conftest import Server
from tests.test_cli import run

CSV = "record_id,name,birth_date\nnew-1,测试人,1980-01-01\n"


@pytest.fixture(scope="module")
def secured(
    backend: Backend, loaded: Settings, sample_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str], Settings]]:
    """A writable copy of the sample store (on each backend), its own keys, and a server on it."""
    settings = backend.copy(loaded, sample_files, tmp_path_factory.mktemp("secured"))
    tokens = make_tokens(settings)
    with Server(settings) as server:
        yield server.url, tokens, settings


def _call(url: str, token: str | None, method: str, path: str, **kw: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=url, timeout=30, headers=headers) as c:
        return c.request(method, path, **kw)  # type: ignore[arg-type]


# (method, path, request kwargs, roles allowed). Writes target the caller's own office (CN-GD).
ENDPOINTS: list[tuple[str, str, dict[str, object], set[str]]] = [
    ("POST", "/match", {"json": {"queries": [{"name": "陈大文"}]}}, {"investigator", "system", "analyst"}),
    ("GET", "/records/CN-GD/GD-2024-00001", {}, {"investigator"}),
    ("GET", "/stats", {}, {"investigator", "analyst", "office-admin", "auditor"}),
    ("POST", "/offices/CN-GD/records", {"files": {"file": ("x.csv", CSV.encode())}}, {"office-admin"}),
    ("DELETE", "/offices/CN-GD/records/does-not-exist", {}, {"office-admin"}),
    ("GET", "/keys", {}, {"office-admin"}),
    ("POST", "/keys", {"json": {"role": "system", "label": "matrix"}}, {"office-admin"}),
    ("GET", "/audit", {}, {"auditor"}),
    ("POST", "/screenings", {"json": {"rows": [{"name": "陈大文"}]}}, {"analyst"}),
    ("GET", "/screenings", {}, {"analyst"}),
    ("POST", "/reconcile", {"data": {"queries": '{"a": {"query": "陈大文"}}'}}, {"investigator", "system", "analyst"}),
]


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize(("method", "path", "kw", "allowed"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
def test_role_endpoint_matrix(
    secured: tuple[str, dict[str, str], Settings],
    role: str,
    method: str,
    path: str,
    kw: dict[str, object],
    allowed: set[str],
) -> None:
    url, tokens, _ = secured
    r = _call(url, tokens[role], method, path, **kw)
    if role in allowed:
        assert r.status_code in (200, 202, 404), (role, path, r.text)  # 404: the withdraw target does not exist
    else:
        assert r.status_code == 403, (role, path, r.text)
        assert r.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path", "kw", "allowed"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
def test_every_endpoint_needs_a_key(
    secured: tuple[str, dict[str, str], Settings], method: str, path: str, kw: dict[str, object], allowed: set[str]
) -> None:
    url, tokens, _ = secured
    for token in (None, "sus_nokey_nosecret", "garbage", tokens["investigator"][:-3] + "xyz"):
        r = _call(url, token, method, path, **kw)
        assert r.status_code == 401, (token, path, r.text)
        assert r.json()["error"]["code"] == "unauthorized"


def test_health_needs_no_key(secured: tuple[str, dict[str, str], Settings]) -> None:
    url, _, _ = secured
    assert _call(url, None, "GET", "/healthz").status_code == 200
    assert _call(url, None, "GET", "/readyz").status_code == 200


def test_office_cannot_change_another_offices_records(secured: tuple[str, dict[str, str], Settings]) -> None:
    url, tokens, _ = secured
    hk = tokens["hk-admin"]
    up = _call(url, hk, "POST", "/offices/CN-GD/records", files={"file": ("x.csv", CSV.encode())})
    assert up.status_code == 403 and up.json()["error"]["field"] == "office"
    gd_record = "/offices/CN-GD/records/GD-2024-00001"
    assert _call(url, hk, "DELETE", gd_record).status_code == 403
    assert _call(url, tokens["investigator"], "GET", "/records/CN-GD/GD-2024-00001").status_code == 200
    # A file whose rows claim another office is still stored as the uploader's office.
    claim = "office,record_id,name\nCN-GD,hk-1,陈冒充\n"
    ok = _call(url, hk, "POST", "/offices/CN-HK/records", files={"file": ("x.csv", claim.encode())})
    assert ok.status_code == 200 and ok.json()["stored"] == 1
    assert _call(url, tokens["investigator"], "GET", "/records/CN-HK/hk-1").status_code == 200
    assert _call(url, tokens["investigator"], "GET", "/records/CN-GD/hk-1").status_code == 404


def test_upload_reports_rejections_and_withdraw(secured: tuple[str, dict[str, str], Settings]) -> None:
    url, tokens, _ = secured
    admin = tokens["office-admin"]
    body = "record_id,name,birth_date\nu1,李上传,1970-01-01\nu2,,1970-01-01\nu3,王日期,not-a-date\n"
    r = _call(url, admin, "POST", "/offices/CN-GD/records", files={"file": ("up.csv", body.encode())})
    out = r.json()
    assert r.status_code == 200 and out["read"] == 3 and out["stored"] == 1 and out["rejected"] == 2
    assert [(x["line"], x["field"]) for x in out["rejections"]] == [(3, "name"), (4, "birth_date")]
    bad = _call(url, admin, "POST", "/offices/CN-GD/records", files={"file": ("up.csv", b"foo,bar\n1,2\n")})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "file"
    assert _call(url, admin, "DELETE", "/offices/CN-GD/records/u1").status_code == 200
    assert _call(url, admin, "DELETE", "/offices/CN-GD/records/u1").status_code == 404


def test_keys_revocation_and_expiry(secured: tuple[str, dict[str, str], Settings]) -> None:
    url, tokens, settings = secured
    made = _call(url, tokens["office-admin"], "POST", "/keys", json={"role": "system", "label": "pre-raid bot"}).json()
    token, key_id = made["token"], made["key_id"]
    assert made["office"] == "CN-GD" and token.startswith(f"sus_{key_id}_")
    created = _call(url, tokens["auditor"], "GET", "/audit", params={"q": key_id}).json()
    assert [e["action"] for e in created] == ["key.create"]
    listed = _call(url, tokens["office-admin"], "GET", "/keys").json()
    assert all("token" not in k and "hash" not in k for k in listed) and key_id in {k["key_id"] for k in listed}
    assert _call(url, token, "POST", "/match", json={"queries": [{"name": "x"}]}).status_code == 200
    assert _call(url, tokens["hk-admin"], "DELETE", f"/keys/{key_id}").status_code == 404  # not HK's key
    assert _call(url, tokens["office-admin"], "DELETE", f"/keys/{key_id}").status_code == 200
    assert _call(url, token, "POST", "/match", json={"queries": [{"name": "x"}]}).status_code == 401
    # Expiry: a key that expired a second ago no longer works.
    access = open_access(settings)
    key, expired = new_key("CN-GD", "investigator", "expired", now_utc() - timedelta(seconds=1))
    access.add_key(key)
    assert _call(url, expired, "POST", "/match", json={"queries": [{"name": "x"}]}).status_code == 401
    # The secret is stored only as a salted hash (what the backend holds for the key, every field).
    stored = access.get_key(key_id)
    access.close()
    assert stored is not None and stored.hash and stored.salt
    assert token.split("_", 2)[2] not in " ".join(str(getattr(stored, f)) for f in stored.__slots__)


def test_audit_records_each_action(secured: tuple[str, dict[str, str], Settings]) -> None:
    url, tokens, _ = secured
    _call(
        url,
        tokens["investigator"],
        "POST",
        "/match",
        json={"queries": [{"name": "審計測試名", "id_number": "A123456(3)"}]},
    )
    _call(url, tokens["investigator"], "GET", "/records/CN-GD/GD-2024-00001")
    _call(
        url,
        tokens["office-admin"],
        "POST",
        "/offices/CN-GD/records",
        files={"file": ("a.csv", b"record_id,name\na1,\xe5\xae\xa1\n")},
    )
    _call(url, tokens["office-admin"], "DELETE", "/offices/CN-GD/records/a1")
    events = _call(url, tokens["auditor"], "GET", "/audit").json()
    actions = {e["action"] for e in events}
    assert {"match", "read", "load", "withdraw"} <= actions
    hit = _call(url, tokens["auditor"], "GET", "/audit", params={"q": "審計測試名"}).json()
    assert len(hit) == 1 and hit[0]["action"] == "match" and hit[0]["role"] == "investigator"
    assert hit[0]["terms"] == ["審計測試名", "A123456(3)"] and hit[0]["client"] == "127.0.0.1"
    assert "results" in hit[0]["detail"]
    by_key = _call(url, tokens["auditor"], "GET", "/audit", params={"key": hit[0]["key_id"]}).json()
    assert by_key and all(e["key_id"] == hit[0]["key_id"] for e in by_key)
    other = _call(url, tokens["auditor"], "GET", "/audit", params={"office": "CN-HK"})
    assert other.status_code == 403
    assert _call(url, tokens["auditor"], "GET", "/audit", params={"until": "2000-01-01"}).json() == []


def test_audit_trail_cannot_be_altered(tmp_path: Path) -> None:
    access = SQLiteAccess(tmp_path / "a.db")
    access.record(AuditEvent("match", "k", "CN-GD", "investigator", "", ["陈大文"], {}))
    conn = sqlite3.connect(tmp_path / "a.db", isolation_level=None)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit SET terms = '[]'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("DELETE FROM audit_gate")
    conn.close()
    access.close()
    # No route changes or removes entries: only GET exists on /audit.
    app = create_app(Settings(store=tmp_path / "a.db"))
    assert set(app.openapi()["paths"]["/audit"]) == {"get"}


def test_audit_retention_purge_deletes_only_old_entries(backend: Backend, tmp_path: Path) -> None:
    """The purge deletes only entries older than the retention, and records itself."""
    access = open_access(backend.settings(tmp_path))
    try:
        access.record(AuditEvent("match", "k", "CN-GD", "investigator", "", ["陈大文"], {}))
        old = AuditEvent("match", "k", "CN-GD", "investigator", at=iso(now_utc() - timedelta(days=500)))
        access.record(old)
        purge = AuditEvent("audit.purge", "system", "-", "service")
        deleted = access.purge(iso(now_utc() - timedelta(days=400)), purge)
        assert deleted == 1
        left = access.events()
        assert [e.action for e in left] == ["audit.purge", "match"] and left[0].detail["deleted"] == 1
    finally:
        access.close()


def test_rate_limit_and_batch_and_body_limits(loaded_store_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    copy_store(loaded_store_path, path)
    settings = Settings(
        store=path, rate_limit_per_minute=6, rate_limit_burst=3, max_batch=5, max_body_bytes=5000, max_name_length=50
    )
    tokens = make_tokens(settings)
    with Server(settings) as server:
        codes = [
            _call(server.url, tokens["system"], "POST", "/match", json={"queries": [{"name": "x"}]}).status_code
            for _ in range(4)
        ]
        assert codes == [200, 200, 200, 429]
        limited = _call(server.url, tokens["system"], "POST", "/match", json={"queries": [{"name": "x"}]})
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        # Another key has its own bucket.
        many = _call(server.url, tokens["analyst"], "POST", "/match", json={"queries": [{"name": "x"}] * 6})
        assert many.status_code == 413 and many.json()["error"]["field"] == "queries"
        long = _call(server.url, tokens["analyst"], "POST", "/match", json={"queries": [{"name": "x" * 51}]})
        assert long.status_code == 422 and long.json()["error"]["field"] == "queries.0.name"
        big = _call(
            server.url,
            tokens["analyst"],
            "POST",
            "/match",
            content=b"{" + b" " * 6000 + b"}",
            headers={"Content-Type": "application/json"},
        )
        assert big.status_code == 413


def test_failed_authentication_is_limited_before_hashing(loaded_store_path: Path, tmp_path: Path) -> None:
    """Wrong secrets for a known key id cost one scrypt each: after the limit they are refused
    with 429 before hashing, while a client whose key was already verified keeps working. Unknown
    ids, wrong secrets and revoked ids with a wrong secret all get the same answer (issue #18)."""
    path = tmp_path / "f.db"
    copy_store(loaded_store_path, path)
    settings = Settings(store=path, rate_limit_burst=1_000_000, auth_failures_per_minute=5)
    tokens = make_tokens(settings)
    access = open_access(settings)
    try:
        revoked_key, revoked_token = new_key("CN-GD", "investigator", "to revoke")
        access.add_key(revoked_key)
        access.revoke_key(revoked_key.key_id, iso(now_utc()))
    finally:
        access.close()
    victim = tokens["system"]
    key_id = victim.split("_")[1]
    body = {"json": {"queries": [{"name": "陳大文"}]}}
    with Server(settings) as server:
        assert _call(server.url, victim, "POST", "/match", **body).status_code == 200  # verified once
        answers = {
            "unknown id": _call(server.url, "sus_nosuchid_" + "x" * 20, "GET", "/stats"),
            "wrong secret": _call(server.url, f"sus_{key_id}_wrong", "GET", "/stats"),
            "revoked, wrong secret": _call(server.url, f"sus_{revoked_key.key_id}_wrong", "GET", "/stats"),
        }
        for what, r in answers.items():
            assert r.status_code == 401 and r.json()["error"]["message"] == "invalid API key", (what, r.text)
        codes = [_call(server.url, f"sus_{key_id}_wrong{i}", "GET", "/stats").status_code for i in range(6)]
        assert codes.count(401) <= 3 and codes[-1] == 429, codes  # 5 per minute, 2 spent above
        limited = _call(server.url, f"sus_{key_id}_wrong", "GET", "/stats")
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert _call(server.url, victim, "POST", "/match", **body).status_code == 200  # still served
    with Server(settings) as server:  # a fresh process: the holder of the right secret is told why
        revoked = _call(server.url, revoked_token, "GET", "/stats")
        assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]["message"]


def test_a_batch_costs_its_queries(loaded_store_path: Path, tmp_path: Path) -> None:
    """The rate limit counts queries: a batch of 5 empties a bucket of 5, and the key then waits
    (a 1,000-query batch cost the same as one query, issue #18)."""
    path = tmp_path / "b.db"
    copy_store(loaded_store_path, path)
    settings = Settings(store=path, rate_limit_per_minute=60, rate_limit_burst=5, max_batch=10)
    tokens = make_tokens(settings)
    batch = {"queries": [{"name": f"x{i}"} for i in range(5)]}
    one = {"queries": [{"name": "x"}]}
    with Server(settings) as server:
        assert _call(server.url, tokens["system"], "POST", "/match", json=batch).status_code == 200
        limited = _call(server.url, tokens["system"], "POST", "/match", json=one)
        assert limited.status_code == 429 and "queries per minute" in limited.json()["error"]["message"]
        # A batch larger than the bucket is taken from a full bucket and leaves a debt.
        big = {"queries": [{"name": f"y{i}"} for i in range(10)]}
        assert _call(server.url, tokens["analyst"], "POST", "/match", json=big).status_code == 200
        after = _call(server.url, tokens["analyst"], "POST", "/match", json=one)
        assert after.status_code == 429 and int(after.headers["Retry-After"]) >= 5
        # The same through /reconcile: five queries in one batch spend the bucket.
        five = json.dumps({f"q{i}": {"query": f"z{i}"} for i in range(5)})
        assert (
            _call(server.url, tokens["investigator"], "POST", "/reconcile", data={"queries": five}).status_code == 200
        )
        again = _call(
            server.url, tokens["investigator"], "POST", "/reconcile", data={"queries": '{"a": {"query": "z"}}'}
        )
        assert again.status_code == 429


def test_auditor_keys_are_not_the_office_admins_to_make_or_revoke(
    backend: Backend, loaded: Settings, sample_files: dict[str, Path], tmp_path: Path
) -> None:
    """An office-admin could mint an auditor key and revoke the real auditor's (issue #18). Now only
    the operator does, with the CLI, and the office's auditor sees it in the office's trail."""
    settings = backend.copy(loaded, sample_files, tmp_path)
    tokens = make_tokens(settings)
    auditor_id = tokens["auditor"].split("_")[1]
    with Server(settings) as server:
        made = _call(server.url, tokens["office-admin"], "POST", "/keys", json={"role": "auditor", "label": "mine"})
        assert made.status_code == 403 and made.json()["error"]["field"] == "role"
        revoked = _call(server.url, tokens["office-admin"], "DELETE", f"/keys/{auditor_id}")
        assert revoked.status_code == 403
        assert _call(server.url, tokens["auditor"], "GET", "/audit").status_code == 200  # still works
        r = run("keys", "create", "--office", "CN-GD", "--role", "auditor", "--label", "second auditor", store=settings)
        assert r.returncode == 0, r.stderr
        events = _call(server.url, tokens["auditor"], "GET", "/audit", params={"q": "second auditor"}).json()
        created = [e for e in events if e["action"] == "key.create"]
        assert created and created[0]["office"] == "CN-GD" and created[0]["client"].startswith("cli:"), events
