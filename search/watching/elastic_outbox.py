"""The document plumbing of the watch indexes and the webhook outbox on Elasticsearch.

:class:`ElasticDocs` reads and writes documents of the seven watch indexes (each single write with
``refresh=wait_for``, so the next screening or poll sees it; inside :meth:`ElasticDocs.batch`, one
refresh when the batch ends) and hands out sequence numbers;
:class:`ElasticOutbox` keeps the webhooks and their deliveries (claimed with ``if_seq_no``, so two
servers never send one at once). :class:`search.watching.elastic.ElasticsearchWatch` adds the lists,
entries, pairs and alerts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, Literal

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from search.errors import StoreUnavailable
from search.storage.elastic_client import ElasticIndexes, unavailable
from search.watching.model import Delivery, Webhook

PAGE = 10_000


def _delivery(src: dict[str, Any]) -> Delivery:
    return Delivery(
        src["delivery_id"],
        src["hook_id"],
        src["office"],
        src["alert_seq"],
        src["url"],
        src["payload"],
        src["status"],
        src["attempts"],
        src["next_at"],
        src.get("last_error"),
        src["created_at"],
        src.get("delivered_at"),
    )


class ElasticDocs(ElasticIndexes):
    """Single-document reads and writes on the watch indexes, and sequence numbers."""

    _NAMES = "watchlists watch-entries watch-floors watch-pairs alerts webhooks deliveries watch-counters"
    INDEXES: ClassVar[dict[str, str]] = {n: n for n in _NAMES.split()}

    def _search(self, suffix: str, query: dict[str, Any], size: int = PAGE, **kw: Any) -> list[dict[str, Any]]:
        self._ensure()
        with unavailable():
            resp = self.es.search(index=self.index(suffix), query=query, size=size, **kw)
        return [h["_source"] for h in resp["hits"]["hits"]]

    def __init__(
        self, url: str | None = None, prefix: str = "suspects", client: Elasticsearch | None = None, timeout: float = 10
    ) -> None:
        super().__init__(url, prefix, client, timeout)
        self._batches = threading.local()  # this store's open batch() in each thread: the indexes it wrote to

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Writes made visible to searches together when the block ends (one refresh of the
        indexes it wrote to), not one by one: ``refresh=wait_for`` waits for the index's next
        periodic refresh (every second), and a load's alerts were written one after another —
        about a second each (an alert, its pair, a delivery per webhook). Single-document reads
        (GET) see every write at once, refreshed or not."""
        if getattr(self._batches, "touched", None) is not None:  # nested: the outer one refreshes
            yield
            return
        self._batches.touched = touched = set[str]()
        try:
            yield
        finally:
            self._batches.touched = None
            if touched:
                with unavailable():
                    self.es.indices.refresh(index=",".join(self.index(s) for s in sorted(touched)))

    def _refresh(self, suffix: str) -> Literal["wait_for"] | None:
        touched: set[str] | None = getattr(self._batches, "touched", None)
        if touched is None:
            return "wait_for"
        touched.add(suffix)
        return None

    def _put(self, suffix: str, doc_id: str, doc: dict[str, Any], wait: bool = True) -> None:
        """Write one document; ``wait``: searchable when this returns (or when the batch ends)."""
        self._ensure()
        refresh = self._refresh(suffix) if wait else None
        with unavailable():
            self.es.index(index=self.index(suffix), id=doc_id, document=doc, refresh=refresh)

    def _get(self, suffix: str, doc_id: str) -> dict[str, Any] | None:
        self._ensure()
        with unavailable():
            try:
                src: dict[str, Any] = self.es.get(index=self.index(suffix), id=doc_id)["_source"]
            except NotFoundError:
                return None
        return src

    def _delete(self, suffix: str, doc_id: str) -> bool:
        self._ensure()
        with unavailable():
            try:
                self.es.delete(index=self.index(suffix), id=doc_id, refresh=self._refresh(suffix))
            except NotFoundError:
                return False
        return True

    def _mget(self, suffix: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The documents of ``ids`` that exist, by id (realtime, as GET)."""
        out: dict[str, dict[str, Any]] = {}
        wanted = sorted(set(ids))
        if not wanted:
            return out
        self._ensure()
        for i in range(0, len(wanted), 1000):
            with unavailable():
                resp = self.es.mget(index=self.index(suffix), ids=wanted[i : i + 1000])
            out.update({d["_id"]: d["_source"] for d in resp["docs"] if d.get("found")})
        return out

    def _bulk(
        self,
        ops: list[dict[str, Any]],
        per_request: int,
        what: str,
        later: Sequence[str] | None = None,
        between: Callable[[], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Write ``ops`` (actions, each index action followed by its source) ``per_request``
        documents at a time; each item's result. Each request is refreshed at once, unless
        ``later`` names the indexes it writes: then they are refreshed when the open batch ends
        (``()``: never, as the counters, only read by GET). An operation the node refuses raises
        (it was silently dropped from a floors request before: a floor lost without a word);
        deleting a missing document is not refused. ``between``: called after each request (a
        lock's heartbeat)."""
        refresh: bool | Literal["wait_for"] = True
        if later is not None:
            refresh = False if all(self._refresh(s) is None for s in later) else "wait_for"
        items: list[dict[str, Any]] = []
        start = 0
        while start < len(ops):
            end, n = start, 0
            while end < len(ops) and n < per_request:
                end += 1 if "delete" in ops[end] else 2
                n += 1
            with unavailable():
                resp = self.es.bulk(operations=ops[start:end], refresh=refresh)
            done = [next(iter(item.values())) for item in resp["items"]]
            refused = [r for r in done if r.get("error")]
            if refused:
                raise StoreUnavailable(f"Elasticsearch refused {len(refused)} {what}: {refused[0]['error']}")
            items.extend(done)
            start = end
            if between is not None:
                between()
        return items

    def _reserve(self, wanted: dict[str, int]) -> dict[str, list[int]]:
        """The next numbers of sequences (alerts, deliveries: name → how many), in one request:
        the versions of a counter document, which every write of it raises by one, atomically on
        its shard (no script needed: the test distribution of Elasticsearch has no Painless). Two
        writers at once get numbers of their own; alert numbers are reserved under the alert
        writer's lock (:mod:`search.watching.elastic_lock`), so theirs never interleave."""
        counters = self.index("watch-counters")
        ops: list[dict[str, Any]] = []
        for name, n in wanted.items():
            ops += [{"index": {"_index": counters, "_id": name}}, {"value": 0}] * n
        if not ops:
            return {name: [] for name in wanted}
        self._ensure()
        out: dict[str, list[int]] = {name: [] for name in wanted}
        for item in self._bulk(ops, 10_000, "sequence numbers", later=()):
            out[item["_id"]].append(int(item["_version"]))
        return {name: sorted(v) for name, v in out.items()}


class ElasticOutbox(ElasticDocs):
    """Webhooks and the deliveries owed to them."""

    def add_hook(self, hook: Webhook) -> None:
        self._put(
            "webhooks",
            hook.hook_id,
            {
                "hook_id": hook.hook_id,
                "office": hook.office,
                "url": hook.url,
                "secret": hook.secret,
                "created_at": hook.created_at,
            },
        )

    def hooks(self, office: str) -> list[Webhook]:
        found = self._search("webhooks", {"term": {"office": office}}, sort=[{"created_at": "asc"}, {"hook_id": "asc"}])
        return [Webhook(s["hook_id"], s["office"], s["url"], s["secret"], s["created_at"]) for s in found]

    def secret_of(self, hook_id: str) -> str | None:
        src = self._get("webhooks", hook_id)
        return str(src["secret"]) if src else None

    def delete_hook(self, hook_id: str) -> bool:
        gone = self._delete("webhooks", hook_id)
        for d in self._search(
            "deliveries", {"bool": {"filter": [{"term": {"hook_id": hook_id}}, {"term": {"status": "pending"}}]}}
        ):
            self._put("deliveries", str(d["delivery_id"]), {**d, "status": "dead", "last_error": "webhook deleted"})
        return gone

    def _no_outbox(self) -> bool:
        """No deliveries index yet (nothing was ever owed): the webhook worker's polls must not
        create the seven indexes of every server on every prefix (the test suite starts dozens)."""
        if self._ready:
            return False
        with unavailable():
            return not self.es.indices.exists(index=self.index("deliveries"))

    def claim(self, now: float, lease: float, limit: int) -> list[Delivery]:
        if self._no_outbox():
            return []
        self._ensure()
        query = {
            "bool": {
                "filter": [
                    {"term": {"status": "pending"}},
                    {"range": {"next_at": {"lte": now}}},
                    {"range": {"claimed_until": {"lte": now}}},
                ]
            }
        }
        with unavailable():
            resp = self.es.search(
                index=self.index("deliveries"),
                query=query,
                size=limit,
                seq_no_primary_term=True,
                sort=[{"next_at": "asc"}, {"delivery_id": "asc"}],
            )
        out: list[Delivery] = []
        with self.batch():  # a claim another server's search misses still conflicts on its seq_no
            for hit in resp["hits"]["hits"]:
                src = {**hit["_source"], "claimed_until": now + lease}
                try:
                    with unavailable():
                        self.es.index(
                            index=self.index("deliveries"),
                            id=hit["_id"],
                            document=src,
                            refresh=self._refresh("deliveries"),
                            if_seq_no=hit["_seq_no"],
                            if_primary_term=hit["_primary_term"],
                        )
                except ConflictError:
                    continue  # another server claimed it first
                out.append(_delivery(src))
        return out

    # delivered() and failed() do not wait for a refresh: the worker marks each delivery of a round
    # in turn, and each waited up to a second (the next delivery's latency). A claim's search that
    # still sees the claimed version finds it leased (claimed_until ahead), and a write over it
    # would conflict on its seq_no; GET, the redelivery's read, is realtime.
    def delivered(self, delivery_id: int, now_iso: str) -> None:
        src = self._get("deliveries", str(delivery_id))
        if src is not None:
            self._put(
                "deliveries",
                str(delivery_id),
                {
                    **src,
                    "status": "delivered",
                    "attempts": src["attempts"] + 1,
                    "delivered_at": now_iso,
                    "claimed_until": 0.0,
                    "last_error": None,
                },
                wait=False,
            )

    def failed(self, delivery_id: int, error: str, next_at: float | None) -> None:
        src = self._get("deliveries", str(delivery_id))
        if src is not None:
            self._put(
                "deliveries",
                str(delivery_id),
                {
                    **src,
                    "attempts": src["attempts"] + 1,
                    "last_error": error[:500],
                    "claimed_until": 0.0,
                    "status": "dead" if next_at is None else "pending",
                    "next_at": next_at or 0.0,
                },
                wait=False,
            )

    def deliveries(self, office: str, status: str | None, limit: int) -> list[Delivery]:
        filters: list[dict[str, Any]] = [{"term": {"office": office}}]
        if status:
            filters.append({"term": {"status": status}})
        found = self._search("deliveries", {"bool": {"filter": filters}}, size=limit, sort=[{"delivery_id": "desc"}])
        return [_delivery(s) for s in found]

    def redeliver(self, delivery_id: int, office: str, now: float) -> Delivery | None:
        src = self._get("deliveries", str(delivery_id))
        if src is None or src["office"] != office or src["status"] == "pending":
            return None
        src.update(status="pending", attempts=0, next_at=now, claimed_until=0.0)
        self._put("deliveries", str(delivery_id), src)
        return _delivery(src)

    def next_due(self) -> float | None:
        if self._no_outbox():
            return None
        found = self._search(
            "deliveries",
            {"term": {"status": "pending"}},
            size=100,
            sort=[{"next_at": "asc"}],
            source_includes=["next_at", "claimed_until"],
        )
        if not found:
            return None
        return min(max(float(s["next_at"]), float(s["claimed_until"])) for s in found)
