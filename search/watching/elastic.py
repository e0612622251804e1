"""The watch tables as Elasticsearch indexes (mappings in ``mappings/``): ``watchlists``,
``watch-entries`` (each entry's keys as ``<entity type>:<key hash>`` keywords, the lookup the
records' keys get turned around), ``watch-pairs``, ``alerts``, ``webhooks``, ``deliveries`` and
``watch-counters`` (the alert and delivery sequence numbers: the cursor of ``GET /alerts``).

Elasticsearch has no transactions across documents. A screening's changes are written in a fixed
order — its alerts and their deliveries in bulk, then the pairs that point at them
(:mod:`search.watching.elastic_apply`) — and refreshed together once all are written, so the next
screening reads them; a process killed part-way leaves at worst an alert whose pair is missing,
which the next screening of that entry (or ``suspects watch rescreen``) supersedes. One process
at a time numbers and writes new alerts (:mod:`search.watching.elastic_lock`), so ``GET /alerts``
never shows a number before a smaller one that is still to come. Deliveries
are claimed with optimistic concurrency (``if_seq_no``), so two servers never send one twice at once.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from typing import Any

from search.errors import NotFound
from search.storage.elastic_client import unavailable
from search.watching.elastic_apply import Planner, deliveries_owed, pair_id, reads_of
from search.watching.elastic_lock import WriterLock
from search.watching.elastic_outbox import PAGE, ElasticOutbox
from search.watching.model import Alert, Entry, Pair, Watchlist
from search.watching.store import (
    AlertFilter,
    Change,
    KeptFloor,
    Keyed,
    KeyedEntry,
    NewAlert,
    Snapshot,
    Top,
    last_of,
    top_of,
    top_text,
)

TERMS_PER_QUERY = 10_000


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


def _pair(src: dict[str, Any]) -> Pair:
    return Pair(
        src["entry_id"],
        src["doc"],
        src["verdict"],
        src["digest"],
        src.get("alert_seq"),
        src.get("dismissed_digest"),
        float(src.get("w", 0.0)),
        src.get("raw"),
        tuple(src.get("names", ())),
    )


class ElasticsearchWatch(ElasticOutbox):
    """The watch features' seven indexes: lists, entries, pairs and alerts here; documents, sequence
    numbers, webhooks and deliveries in :mod:`search.watching.elastic_outbox`."""

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

    def put_entries(self, entries: Sequence[KeyedEntry]) -> None:
        """One bulk request of 500 entries at a time, refreshed at once (as set_floors): one
        ``refresh=wait_for`` an entry waited up to a second each, and a re-key after an upgrade
        puts every entry again."""
        self._ensure()
        ops: list[dict[str, Any]] = []
        for entry, postings, kept in entries:
            ops.append({"index": {"_index": self.index("watch-entries"), "_id": entry.entry_id}})
            ops.append(
                {
                    "entry_id": entry.entry_id,
                    "list_id": entry.list_id,
                    "office": entry.office,
                    "doc": json.dumps(entry.stored(), ensure_ascii=False),
                    "keys": [f"{etype}:{h}" for h, etype, _ in postings],
                    "weights": [w for _, _, w in postings],
                    "kept": base64.b64encode(kept).decode("ascii"),  # a binary field: base64 in JSON
                }
            )
        self._bulk(ops, 500, "watch entries")

    def get_entry(self, entry_id: str) -> Entry | None:
        src = self._get("watch-entries", entry_id)
        return Entry(**json.loads(src["doc"])) if src else None

    def entries(self, list_id: str) -> list[Entry]:
        found = self._every("watch-entries", {"term": {"list_id": list_id}}, ["entry_id"], ["doc"])
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

    def _every(
        self, suffix: str, query: dict[str, Any], order: list[str], fields: list[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every document matching ``query`` (its ``fields``, else all), page after page in ``order``
        (fields that identify a document): a search answers one page of PAGE hits, and a list's
        entries or a batch's pairs can be more, which one search left out without a word."""
        kw: dict[str, Any] = {"sort": [{f: "asc"} for f in order], "size": PAGE}
        if fields is not None:
            kw["source_includes"] = [*fields, *order]
        page = self._search(suffix, query, **kw)
        yield from page
        while len(page) >= PAGE:
            page = self._search(suffix, query, search_after=[page[-1][f] for f in order], **kw)
            yield from page

    def _every_entry(self, fields: list[str], suffix: str = "watch-entries") -> list[dict[str, Any]]:
        """Every entry document's ``fields`` (or every floor's), in entry id order."""
        order = ["entry_id", "etype"] if suffix == "watch-floors" else ["entry_id"]
        return list(self._every(suffix, {"match_all": {}}, order, fields))

    def all_entry_ids(self) -> list[str]:
        return [src["entry_id"] for src in self._every_entry(["entry_id"])]

    def snapshot(self) -> Snapshot:
        entries: list[Entry] = []
        keys: list[Keyed] = []
        kept: dict[str, bytes] = {}
        for src in self._every_entry(["entry_id", "doc", "keys", "weights", "kept"]):
            entries.append(Entry(**json.loads(src["doc"])))
            if src.get("kept"):
                kept[src["entry_id"]] = base64.b64decode(src["kept"])
            for key, w in zip(src["keys"], src["weights"], strict=True):
                etype, h = key.split(":")
                keys.append((src["entry_id"], int(h), etype, int(w)))
        floors = self._every_entry(["entry_id", "etype", "tag", "w", "last"], "watch-floors")
        return Snapshot(
            tuple(entries),
            tuple(keys),
            tuple((f["entry_id"], f["etype"], f["tag"], f["w"], f.get("last", "")) for f in floors),
            kept,
        )

    def set_floors(self, floors: Sequence[KeptFloor]) -> None:
        if not floors:
            return
        self._ensure()
        ops: list[dict[str, Any]] = []
        for entry_id, etype, tag, w, top in floors:
            ops.append({"index": {"_index": self.index("watch-floors"), "_id": f"{entry_id}:{etype}"}})
            ops.append(
                {
                    "entry_id": entry_id,
                    "etype": etype,
                    "tag": tag,
                    "w": w,
                    "top": top_text(top),
                    "last": last_of(w, top),
                }
            )
        # refresh=True, not wait_for: the next load's snapshot must read them (a floor it misses
        # may stand above a lowered K-th weight), and waiting for the periodic refresh added up to
        # a second to every screening, past the web page's 5 s for a new entry's alerts. A bulk
        # request of 2,000 floors: each holds its 50 best candidates (about 2 KB).
        self._bulk(ops, 2000, "floors")

    def tops(self, entry_ids: Sequence[str]) -> dict[tuple[str, str], tuple[str, Top]]:
        out: dict[tuple[str, str], tuple[str, Top]] = {}
        ids = list(entry_ids)
        for i in range(0, len(ids), TERMS_PER_QUERY):
            query = {"terms": {"entry_id": ids[i : i + TERMS_PER_QUERY]}}
            for f in self._every("watch-floors", query, ["entry_id", "etype"], ["tag", "top"]):
                if f.get("top") is not None:
                    out[(f["entry_id"], f["etype"])] = (f["tag"], top_of(f["top"]))
        return out

    def entry_versions(self) -> dict[str, int]:
        docs = self._every_entry(["entry_id", "doc"])
        return {src["entry_id"]: int(json.loads(src["doc"])["version"]) for src in docs}

    def delete_entry(self, entry_id: str) -> None:
        self._delete("watch-entries", entry_id)
        for etype in ("person", "company"):
            self._delete("watch-floors", f"{entry_id}:{etype}")

    # -- pairs and alerts ----------------------------------------------------------------------

    def _pairs_where(self, field: str, values: Sequence[str], *fields: str) -> Iterator[dict[str, Any]]:
        """Every pair whose ``field`` is one of ``values`` (only ``fields`` of each, if given)."""
        values = list(values)
        for i in range(0, len(values), TERMS_PER_QUERY):
            yield from self._every(
                "watch-pairs",
                {"terms": {field: values[i : i + TERMS_PER_QUERY]}},
                ["entry_id", "doc"],
                list(fields) or None,
            )

    def pairs_of_docs(self, docs: Sequence[str]) -> list[Pair]:
        return [_pair(s) for s in self._pairs_where("doc", docs)]

    def pairs_of_entries(self, entry_ids: Sequence[str]) -> dict[str, list[Pair]]:
        out: dict[str, list[Pair]] = {}
        for s in self._pairs_where("entry_id", entry_ids):
            out.setdefault(s["entry_id"], []).append(_pair(s))
        return out

    def lightest_pairs(self, entry_ids: Sequence[str]) -> dict[str, float]:
        out: dict[str, float] = {}
        for s in self._pairs_where("entry_id", entry_ids, "w"):
            out[s["entry_id"]] = min(out.get(s["entry_id"], float("inf")), float(s["w"]))
        return out

    def apply(self, changes: Sequence[Change], now: str) -> list[int]:
        """Read what the changes need, reserve their sequence numbers, then write alerts and
        deliveries in bulk and the pairs after them (:mod:`.elastic_apply`); all searchable together."""
        if not changes:
            return []
        self._ensure()
        offices = sorted({ch.alert.office for ch in changes if isinstance(ch, NewAlert)})
        hooks = {office: self.hooks(office) for office in offices}
        fresh = sum(isinstance(ch, NewAlert) for ch in changes)
        alert_ids, pair_ids = reads_of(changes)
        alerts, pairs = self._mget("alerts", alert_ids), self._mget("watch-pairs", pair_ids)
        lock = WriterLock(self.es, self.index("watch-counters"))
        with self.batch():  # searchable when every change is written (the next screening reads them)
            # New numbers are given and written by one process at a time (see elastic_lock).
            with lock.held() if fresh else nullcontext():
                numbers = self._reserve({"alerts": fresh, "deliveries": deliveries_owed(changes, hooks)})
                planner = Planner(now, alerts, pairs, iter(numbers["alerts"]), iter(numbers["deliveries"]), hooks)
                out = planner.play(changes)
                first: list[dict[str, Any]] = []
                for suffix, docs in (("alerts", out.alerts), ("deliveries", out.deliveries)):
                    for doc_id, doc in docs.items():
                        first += [{"index": {"_index": self.index(suffix), "_id": doc_id}}, doc]
                self._bulk(first, 500, "alerts and deliveries", ("alerts", "deliveries"), lock.beat)
            then: list[dict[str, Any]] = []
            for pid, pair in out.pairs.items():
                if pair is None:
                    then.append({"delete": {"_index": self.index("watch-pairs"), "_id": pid}})
                else:
                    then += [{"index": {"_index": self.index("watch-pairs"), "_id": pid}}, pair]
            self._bulk(then, 2000, "watch pairs", later=("watch-pairs",))
        return out.new

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
            pid = pair_id(src["entry_id"], f"{src['record_office']}:{src['record_id']}")
            pair = self._get("watch-pairs", pid)
            if pair is not None and pair.get("alert_seq") == seq:
                self._put("watch-pairs", pid, {**pair, "dismissed_digest": pair["digest"]})
        return _alert(src)

    def unread(self, office: str) -> int:
        self._ensure()
        query = {"bool": {"filter": [{"term": {"office": office}}, {"term": {"status": "open"}}]}}
        with unavailable():
            return int(self.es.count(index=self.index("alerts"), query=query)["count"])
