"""The watch tables as Elasticsearch indexes (mappings in ``mappings/``): ``watchlists``,
``watch-entries`` (each entry's keys as ``<entity type>:<key hash>`` keywords, the lookup the
records' keys get turned around), ``watch-pairs``, ``alerts``, ``webhooks``, ``deliveries`` and
``watch-counters`` (the alert and delivery sequence numbers: the cursor of ``GET /alerts``).

Elasticsearch has no transactions across documents. A state change writes its documents in a fixed
order — the alert, then its deliveries, then the pair that points at it — each with
``refresh=wait_for`` so the next screening reads them; a process killed part-way leaves at worst an
alert whose pair is missing, which the next screening of that entry (or ``suspects watch
rescreen``) supersedes. Deliveries are claimed with optimistic concurrency (``if_seq_no``), so two
servers never send one twice at once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

from elasticsearch import ConflictError, NotFoundError

from search.errors import NotFound
from search.storage.elastic_client import ElasticIndexes, unavailable
from search.watching.model import Alert, Delivery, Entry, Pair, Watchlist, Webhook
from search.watching.store import AlertFilter, Change, ClosePair, NewAlert, Posting, Probe, UpdatePair, payload_of

TERMS_PER_QUERY = 10_000
PAGE = 10_000


def _alert(src: dict[str, Any]) -> Alert:
    return Alert(
        src["seq"],
        src["office"],
        src["list_id"],
        src["entry_id"],
        src["record_office"],
        src["record_id"],
        src["digest"],
        src["verdict"],
        src["score"],
        src["status"],
        src["created_at"],
        src["updated_at"],
        src["detail"],
    )


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


def _pair(src: dict[str, Any]) -> Pair:
    return Pair(
        src["entry_id"],
        src["doc"],
        src["verdict"],
        src["digest"],
        src.get("alert_seq"),
        src.get("dismissed_digest"),
        float(src.get("w", 0.0)),
    )


class ElasticsearchWatch(ElasticIndexes):
    """The watch features' seven indexes."""

    INDEXES: ClassVar[dict[str, str]] = {
        n: n
        for n in ("watchlists", "watch-entries", "watch-pairs", "alerts", "webhooks", "deliveries", "watch-counters")
    }

    def _search(self, suffix: str, query: dict[str, Any], size: int = PAGE, **kw: Any) -> list[dict[str, Any]]:
        self._ensure()
        with unavailable():
            resp = self.es.search(index=self.index(suffix), query=query, size=size, **kw)
        return [h["_source"] for h in resp["hits"]["hits"]]

    def _put(self, suffix: str, doc_id: str, doc: dict[str, Any]) -> None:
        self._ensure()
        with unavailable():
            self.es.index(index=self.index(suffix), id=doc_id, document=doc, refresh="wait_for")

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
                self.es.delete(index=self.index(suffix), id=doc_id, refresh="wait_for")
            except NotFoundError:
                return False
        return True

    def _next(self, name: str) -> int:
        """The next number of a sequence (alerts, deliveries): the version of a counter document,
        which every write of it raises by one, atomically on its shard (no script needed: the test
        distribution of Elasticsearch has no Painless)."""
        self._ensure()
        with unavailable():
            resp = self.es.index(index=self.index("watch-counters"), id=name, document={"value": 0})
        return int(resp["_version"])

    # -- lists and entries -------------------------------------------------------------------

    def add_list(self, wl: Watchlist) -> None:
        self._put(
            "watchlists",
            wl.list_id,
            {"list_id": wl.list_id, "office": wl.office, "name": wl.name, "created_at": wl.created_at},
        )

    def _count_entries(self, list_id: str) -> int:
        with unavailable():
            return int(self.es.count(index=self.index("watch-entries"), query={"term": {"list_id": list_id}})["count"])

    def get_list(self, list_id: str) -> Watchlist | None:
        src = self._get("watchlists", list_id)
        if src is None:
            return None
        return Watchlist(src["list_id"], src["office"], src["name"], src["created_at"], self._count_entries(list_id))

    def lists(self, office: str) -> list[Watchlist]:
        found = self._search(
            "watchlists", {"term": {"office": office}}, sort=[{"created_at": "asc"}, {"list_id": "asc"}]
        )
        return [
            Watchlist(s["list_id"], s["office"], s["name"], s["created_at"], self._count_entries(s["list_id"]))
            for s in found
        ]

    def delete_list(self, list_id: str) -> None:
        self._delete("watchlists", list_id)

    def put_entry(self, entry: Entry, postings: Sequence[Posting]) -> None:
        doc = {
            "entry_id": entry.entry_id,
            "list_id": entry.list_id,
            "office": entry.office,
            "doc": json.dumps(entry.to_dict(), ensure_ascii=False),
            "keys": [f"{etype}:{h}" for h, etype, _ in postings],
            "weights": [w for _, _, w in postings],
        }
        self._put("watch-entries", entry.entry_id, doc)

    def get_entry(self, entry_id: str) -> Entry | None:
        src = self._get("watch-entries", entry_id)
        return Entry(**json.loads(src["doc"])) if src else None

    def entries(self, list_id: str) -> list[Entry]:
        found = self._search(
            "watch-entries", {"term": {"list_id": list_id}}, source_includes=["doc"], sort=[{"entry_id": "asc"}]
        )
        return sorted((Entry(**json.loads(s["doc"])) for s in found), key=lambda e: (e.created_at, e.entry_id))

    def entries_by_id(self, entry_ids: Sequence[str]) -> dict[str, Entry]:
        out: dict[str, Entry] = {}
        ids = list(entry_ids)
        self._ensure()
        for i in range(0, len(ids), 1000):
            with unavailable():
                resp = self.es.mget(index=self.index("watch-entries"), ids=ids[i : i + 1000], source_includes=["doc"])
            for d in resp["docs"]:
                if d.get("found"):
                    e = Entry(**json.loads(d["_source"]["doc"]))
                    out[e.entry_id] = e
        return out

    def all_entry_ids(self) -> list[str]:
        self._ensure()
        out: list[str] = []
        after: list[Any] | None = None
        while True:
            kw: dict[str, Any] = {"search_after": after} if after else {}
            with unavailable():
                resp = self.es.search(
                    index=self.index("watch-entries"),
                    query={"match_all": {}},
                    size=PAGE,
                    source_includes=["entry_id"],
                    sort=[{"entry_id": "asc"}],
                    **kw,
                )
            hits = resp["hits"]["hits"]
            out.extend(h["_source"]["entry_id"] for h in hits)
            if len(hits) < PAGE:
                return out
            after = hits[-1]["sort"]

    def delete_entry(self, entry_id: str) -> None:
        self._delete("watch-entries", entry_id)

    def has_entries(self) -> bool:
        self._ensure()
        with unavailable():
            return int(self.es.count(index=self.index("watch-entries"))["count"]) > 0

    def reverse(self, probes: Sequence[Probe]) -> dict[int, dict[str, float]]:
        wanted = sorted({f"{etype}:{h}" for _, etype, keys in probes for h, _ in keys})
        by_key: dict[str, list[tuple[str, int]]] = {}
        for i in range(0, len(wanted), TERMS_PER_QUERY):
            part = wanted[i : i + TERMS_PER_QUERY]
            for src in self._search(
                "watch-entries", {"terms": {"keys": part}}, source_includes=["entry_id", "keys", "weights"]
            ):
                for key, w in zip(src["keys"], src["weights"], strict=True):
                    by_key.setdefault(key, []).append((src["entry_id"], w))
        out: dict[int, dict[str, float]] = {}
        for i, etype, keys in probes:
            for h, _ in keys:
                for entry_id, w in by_key.get(f"{etype}:{h}", ()):
                    found = out.setdefault(i, {})
                    found[entry_id] = found.get(entry_id, 0.0) + w
        return out

    # -- pairs and alerts ----------------------------------------------------------------------

    def pairs_of_docs(self, docs: Sequence[str]) -> list[Pair]:
        out: list[Pair] = []
        docs = list(docs)
        for i in range(0, len(docs), TERMS_PER_QUERY):
            out.extend(_pair(s) for s in self._search("watch-pairs", {"terms": {"doc": docs[i : i + TERMS_PER_QUERY]}}))
        return out

    def pairs_of_entry(self, entry_id: str) -> list[Pair]:
        return [_pair(s) for s in self._search("watch-pairs", {"term": {"entry_id": entry_id}})]

    def lightest_pairs(self, entry_ids: Sequence[str]) -> dict[str, float]:
        out: dict[str, float] = {}
        ids = list(entry_ids)
        for i in range(0, len(ids), TERMS_PER_QUERY):
            for s in self._search(
                "watch-pairs", {"terms": {"entry_id": ids[i : i + TERMS_PER_QUERY]}}, source_includes=["entry_id", "w"]
            ):
                out[s["entry_id"]] = min(out.get(s["entry_id"], float("inf")), float(s["w"]))
        return out

    def _pair_id(self, entry_id: str, doc: str) -> str:
        return f"{entry_id}|{doc}"

    def apply(self, changes: Sequence[Change], now: str) -> list[int]:
        new: list[int] = []
        for ch in changes:
            if isinstance(ch, NewAlert):
                new.append(self._new_alert(ch, now))
            elif isinstance(ch, UpdatePair):
                pid = self._pair_id(ch.entry_id, ch.doc)
                src = self._get("watch-pairs", pid)
                if src is not None:
                    self._put("watch-pairs", pid, {**src, "verdict": ch.verdict, "digest": ch.digest, "w": ch.weight})
            elif isinstance(ch, ClosePair):
                if ch.alert_seq is not None:
                    self._close(ch.alert_seq, ch.reason, now)
                self._delete("watch-pairs", self._pair_id(ch.entry_id, ch.doc))
        return new

    def _close(self, seq: int, reason: str, now: str) -> None:
        src = self._get("alerts", str(seq))
        if src is None or src["status"] not in ("open", "acknowledged"):
            return
        src.update(status="closed", updated_at=now, detail={**src["detail"], "closed_because": reason})
        self._put("alerts", str(seq), src)

    def _new_alert(self, ch: NewAlert, now: str) -> int:
        a = ch.alert
        if ch.supersedes is not None:
            self._close(ch.supersedes, "superseded by a newer alert", now)
        a.seq, a.created_at, a.updated_at = self._next("alerts"), now, now
        doc = {
            "seq": a.seq,
            "office": a.office,
            "list_id": a.list_id,
            "entry_id": a.entry_id,
            "record_office": a.record_office,
            "record_id": a.record_id,
            "digest": a.digest,
            "verdict": a.verdict,
            "score": a.score,
            "status": a.status,
            "created_at": now,
            "updated_at": now,
            "detail": a.detail,
        }
        self._put("alerts", str(a.seq), doc)
        body = json.dumps(payload_of(a), ensure_ascii=False, sort_keys=True)
        for hook in self.hooks(a.office):
            n = self._next("deliveries")
            self._put(
                "deliveries",
                str(n),
                {
                    "delivery_id": n,
                    "hook_id": hook.hook_id,
                    "office": a.office,
                    "alert_seq": a.seq,
                    "url": hook.url,
                    "payload": body,
                    "status": "pending",
                    "attempts": 0,
                    "next_at": 0.0,
                    "claimed_until": 0.0,
                    "last_error": None,
                    "created_at": now,
                    "delivered_at": None,
                },
            )
        doc_key = f"{a.record_office}:{a.record_id}"
        self._put(
            "watch-pairs",
            self._pair_id(a.entry_id, doc_key),
            {
                "entry_id": a.entry_id,
                "doc": doc_key,
                "verdict": a.verdict,
                "digest": a.digest,
                "alert_seq": a.seq,
                "dismissed_digest": None,
                "w": ch.weight,
            },
        )
        return a.seq

    def alerts(self, f: AlertFilter) -> list[Alert]:
        filters: list[dict[str, Any]] = [{"term": {"office": f.office}}, {"range": {"seq": {"gt": f.after}}}]
        if f.status:
            filters.append({"term": {"status": f.status}})
        if f.list_id:
            filters.append({"term": {"list_id": f.list_id}})
        found = self._search("alerts", {"bool": {"filter": filters}}, size=min(f.limit, PAGE), sort=[{"seq": "asc"}])
        return [_alert(s) for s in found]

    def get_alert(self, seq: int) -> Alert | None:
        src = self._get("alerts", str(seq))
        return _alert(src) if src else None

    def set_status(self, seq: int, status: str, reason: str | None, now: str) -> Alert:
        src = self._get("alerts", str(seq))
        if src is None:
            raise NotFound(f"no alert {seq}", field="alert_id")
        if reason:
            src["detail"] = {**src["detail"], "status_reason": reason}
        src.update(status=status, updated_at=now)
        self._put("alerts", str(seq), src)
        if status == "dismissed":
            pid = self._pair_id(src["entry_id"], f"{src['record_office']}:{src['record_id']}")
            pair = self._get("watch-pairs", pid)
            if pair is not None and pair.get("alert_seq") == seq:
                self._put("watch-pairs", pid, {**pair, "dismissed_digest": pair["digest"]})
        return _alert(src)

    def unread(self, office: str) -> int:
        self._ensure()
        query = {"bool": {"filter": [{"term": {"office": office}}, {"term": {"status": "open"}}]}}
        with unavailable():
            return int(self.es.count(index=self.index("alerts"), query=query)["count"])

    # -- webhooks and their outbox ---------------------------------------------------------------

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
        for hit in resp["hits"]["hits"]:
            src = {**hit["_source"], "claimed_until": now + lease}
            try:
                with unavailable():
                    self.es.index(
                        index=self.index("deliveries"),
                        id=hit["_id"],
                        document=src,
                        refresh="wait_for",
                        if_seq_no=hit["_seq_no"],
                        if_primary_term=hit["_primary_term"],
                    )
            except ConflictError:
                continue  # another server claimed it first
            out.append(_delivery(src))
        return out

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
