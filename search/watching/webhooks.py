"""Delivering alerts to the offices' webhooks: signed, retried, logged, never in a load's way.

The outbox rows are written in the same transaction as their alerts (:mod:`search.watching.sqlite`);
a background thread in the server claims due rows (a lease, so two servers on one file never both
send one), POSTs each, and records the outcome. A receiver that fails, times out or is down is
retried with exponential backoff and jitter; after ``max_attempts`` the delivery is dead (listed,
and redelivered on request). Loads only write outbox rows, so a slow receiver never slows them.

Every request carries ``X-Suspects-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``
under the webhook's secret, and ``Idempotency-Key: alert-<n>``: a receiver rejects a stale ``t``
(replay window) and keeps each key once, so at-least-once delivery is exactly-once for it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import threading
import time
import urllib.error
import urllib.request

from search.clock import iso, now_utc
from search.watching.model import Delivery
from search.watching.store import WatchStore

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Suspects-Signature"
REPLAY_WINDOW = 300  # seconds a receiver accepts a signature's timestamp


def sign(secret: str, body: bytes, at: int) -> str:
    """The signature header's value for ``body`` sent at unix time ``at``."""
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def verify(secret: str, body: bytes, header: str, now: float, window: float = REPLAY_WINDOW) -> bool:
    """A receiver's check: the signature is ours and its timestamp is inside the replay window."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        at = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - at) > window:
        return False
    return hmac.compare_digest(sign(secret, body, at), header)


def backoff(attempts: int, base: float, cap: float) -> float:
    """Seconds before the next try after ``attempts`` failures: doubling from ``base`` up to
    ``cap``, with full jitter over its upper half (receivers coming back are not stampeded)."""
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return float(delay / 2 + random.uniform(0, delay / 2))


class Deliverer:
    """The server's webhook worker thread."""

    def __init__(
        self,
        store: WatchStore,
        timeout: float,
        max_attempts: int,
        backoff_base: float,
        backoff_cap: float,
        poll: float,
    ) -> None:
        self.store = store
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.poll = poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self, _new: list[int] | None = None) -> None:
        """New alerts in this process: deliver now rather than at the next poll."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                sent = self.run_once()
            except Exception:  # a store error must not end the worker; it retries at the next poll
                logger.exception("webhook delivery round failed")
                sent = 0
            if sent:
                continue
            try:
                due = self.store.next_due() if not self._stop.is_set() else None
            except Exception:  # the store is down: try again at the next poll
                logger.warning("webhook worker: the store did not answer; retrying in %.1f s", self.poll)
                due = None
            wait = self.poll if due is None else max(0.0, min(self.poll, due - time.time()))
            self._wake.wait(wait)
            self._wake.clear()

    def run_once(self, limit: int = 20) -> int:
        """Send what is due now; how many were tried."""
        batch = self.store.claim(time.time(), self.timeout * 3 + 5, limit)
        for d in batch:
            self._send(d)
        return len(batch)

    def _send(self, d: Delivery) -> None:
        secret = self.store.secret_of(d.hook_id)
        if secret is None:
            self.store.failed(d.delivery_id, "webhook deleted", None)
            return
        body = d.payload.encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "suspects-webhooks/1",
            SIGNATURE_HEADER: sign(secret, body, int(time.time())),
            "Idempotency-Key": f"alert-{d.alert_seq}",
            "X-Suspects-Delivery": str(d.delivery_id),
        }
        request = urllib.request.Request(d.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code}"
            exc.close()  # the error is also the response: its socket goes back now
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            status, error = 0, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        if 200 <= status < 300:
            self.store.delivered(d.delivery_id, iso(now_utc()))
            logger.info("delivered alert %d to %s (delivery %d)", d.alert_seq, d.url, d.delivery_id)
            return
        if status:
            error = f"HTTP {status}"
        attempts = d.attempts + 1
        dead = attempts >= self.max_attempts
        next_at = None if dead else time.time() + backoff(attempts, self.backoff_base, self.backoff_cap)
        self.store.failed(d.delivery_id, error, next_at)
        logger.warning(
            "delivery %d of alert %d to %s failed (%s), attempt %d%s",
            d.delivery_id, d.alert_seq, d.url, error, attempts, ": dead" if dead else "",
        )  # fmt: skip
