"""Webhooks end to end, on both backends: signed deliveries to real receivers on loopback, retried
after failures, dead letters redelivered, and loads that never wait on a receiver."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from search.watching.webhooks import SIGNATURE_HEADER, verify
from tests.conftest import wait_until
from tests.test_watching import (
    Env,
    _alerts,
    _new_list,
    env_fixture,  # noqa: F401  (registers the `env` fixture here)
)


@dataclass
class Receiver:
    """A real HTTP receiver on loopback: answers the scripted statuses in turn, then 200; keeps
    what a careful receiver keeps (each idempotency key once, signatures checked)."""

    script: list[int] = field(default_factory=list)
    secret: str = ""
    hang: threading.Event | None = None  # when set up, the first request waits on it (a slow receiver)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    kept: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests.append((dict(self.headers), body))
                    first = len(receiver.requests) == 1
                    status = receiver.script.pop(0) if receiver.script else 200
                if first and receiver.hang is not None:
                    receiver.hang.wait(10)  # held past the sender's timeout
                if status == 200:
                    if verify(receiver.secret, body, self.headers[SIGNATURE_HEADER], time.time()):
                        with receiver.lock:
                            receiver.kept.setdefault(self.headers["Idempotency-Key"], json.loads(body))
                    else:
                        receiver.bad_signatures += 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}/hook"


def _hook(c: httpx.Client, url: str) -> str:
    r = c.post("/webhooks", json={"url": url})
    assert r.status_code == 201, r.text
    return str(r.json()["secret"])


def test_webhooks_are_signed_retried_and_delivered_once_per_alert(env: Env, tmp_path: Path) -> None:
    rec = Receiver(script=[500, 503])
    server, url = rec.start()
    try:
        with env.client("CN-HK/office-admin") as admin, env.client("CN-HK/analyst") as c:
            rec.secret = _hook(admin, url)
            lid = _new_list(c)
            c.post(f"/watchlists/{lid}/entries", json={"entries": [{"name": "陈大文", "birth_date": "1971-02-11"}]})
            env.load(env.files["CN-MO"])
            alerts = _alerts(c)
            wait_until(lambda: len(rec.kept) == len(alerts), 20, "every alert at the receiver")
            assert set(rec.kept) == {f"alert-{a['alert_id']}" for a in alerts}
            assert rec.bad_signatures == 0
            assert {k: v["alert"]["record_id"] for k, v in rec.kept.items()} == {
                f"alert-{a['alert_id']}": a["record_id"] for a in alerts
            }
            # The receiver keeps an alert before it answers; the sender records the answer after.
            wait_until(
                lambda: {d["status"] for d in admin.get("/webhooks/deliveries").json()} == {"delivered"},
                20,
                "the delivery log to say delivered",
            )
            log = admin.get("/webhooks/deliveries").json()
            # Two refusals, then delivered: each refusal cost the delivery that met it one more
            # attempt. Which delivery meets which is the sender's race when a load raises several
            # alerts (CI, Elasticsearch: two alerts, each refused once, 2 attempts each).
            assert sum(d["attempts"] for d in log) == len(log) + 2 == len(rec.requests)
            # A tampered body or an old timestamp fails the receiver's check.
            headers, body = rec.requests[-1]
            assert not verify(
                rec.secret, body + b" ", headers[SIGNATURE_HEADER], float(headers[SIGNATURE_HEADER][2:12])
            )
            assert not verify(rec.secret, body, headers[SIGNATURE_HEADER], float(headers[SIGNATURE_HEADER][2:12]) + 301)
    finally:
        server.shutdown()
        server.server_close()


def test_a_dead_or_slow_receiver_never_blocks_and_dead_letters_are_redelivered(env: Env, tmp_path: Path) -> None:
    slow = Receiver(hang=threading.Event())
    slow_server, slow_url = slow.start()
    down = Receiver()
    down_server, down_url = down.start()
    down_server.shutdown()
    down_server.server_close()  # nothing listens there now: connection refused
    try:
        with env.client("CN-HK/office-admin") as admin, env.client("CN-HK/analyst") as c:
            slow.secret = _hook(admin, slow_url)
            _hook(admin, down_url)
            lid = _new_list(c)
            c.post(f"/watchlists/{lid}/entries", json={"entries": [{"name": "陈大文", "birth_date": "1971-02-11"}]})
            env.load(env.files["CN-MO"])  # returns while the receivers hang or refuse
            n = len(_alerts(c))

            def dead() -> bool:
                return len(admin.get("/webhooks/deliveries", params={"status": "dead"}).json()) == n

            wait_until(dead, 30, "the refused deliveries to go dead")
            wait_until(lambda: len(slow.kept) == n, 30, "the slow receiver to get every alert after its timeout")
            slow.hang.set()  # type: ignore[union-attr]
            [first_dead, *_] = admin.get("/webhooks/deliveries", params={"status": "dead"}).json()
            assert first_dead["attempts"] == 4 and "Connection refused" in (first_dead["last_error"] or "")
            # The receiver comes back (the same port, listening again): redelivered on request.
            back = Receiver(secret=slow.secret)
            port = int(down_url.split(":")[2].split("/")[0])
            back_server, _ = back.start(port)
            try:
                r = admin.post(f"/webhooks/deliveries/{first_dead['delivery_id']}/redeliver")
                assert r.status_code == 200 and r.json()["status"] == "pending"
                wait_until(lambda: len(back.requests) == 1, 20, "the redelivery")
                assert back.requests[0][0]["Idempotency-Key"] == f"alert-{first_dead['alert_seq']}"
            finally:
                back_server.shutdown()
                back_server.server_close()
    finally:
        slow.hang.set()  # type: ignore[union-attr]
        slow_server.shutdown()
        slow_server.server_close()
