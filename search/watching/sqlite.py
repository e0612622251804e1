"""The watch tables in the embedded SQLite file (beside the records, keys and screening jobs).

Entries keep their blocking keys as the records do (48-bit key hashes, ``codec.key_hash``) in a
``WITHOUT ROWID`` table, read whole by a load as the reverse lookup's table
(:mod:`search.watching.reverse`). Every state change is one ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from search.errors import NotFound
from search.storage.sqlite_conn import SQLiteTables
from search.watching import store as ws
from search.watching.model import Alert, Delivery, Entry, Pair, Watchlist, Webhook
from search.watching.store import AlertFilter, Change, ClosePair, NewAlert, Snapshot, UpdatePair

_SCHEMA = """
CREATE TABLE IF NOT EXISTS watchlists (
    list_id TEXT PRIMARY KEY, office TEXT NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS watchlists_office ON watchlists (office);
CREATE TABLE IF NOT EXISTS watch_entries (
    entry_id TEXT PRIMARY KEY, list_id TEXT NOT NULL, office TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS watch_entries_list ON watch_entries (list_id);
CREATE TABLE IF NOT EXISTS watch_postings (
    h INTEGER NOT NULL, etype TEXT NOT NULL, entry_id TEXT NOT NULL, w INTEGER NOT NULL,
    PRIMARY KEY (h, etype, entry_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS watch_postings_entry ON watch_postings (entry_id);
CREATE TABLE IF NOT EXISTS watch_floors (
    entry_id TEXT NOT NULL, etype TEXT NOT NULL, tag TEXT NOT NULL, w REAL NOT NULL,
    PRIMARY KEY (entry_id, etype)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS watch_pairs (
    entry_id TEXT NOT NULL, doc TEXT NOT NULL, verdict TEXT NOT NULL, digest TEXT NOT NULL,
    alert_seq INTEGER, dismissed_digest TEXT, w REAL NOT NULL, raw TEXT, names TEXT,
    PRIMARY KEY (entry_id, doc)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS watch_pairs_doc ON watch_pairs (doc);
CREATE TABLE IF NOT EXISTS alerts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, office TEXT NOT NULL, list_id TEXT NOT NULL,
    entry_id TEXT NOT NULL, record_office TEXT NOT NULL, record_id TEXT NOT NULL, digest TEXT NOT NULL,
    verdict TEXT NOT NULL, score REAL NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alerts_office ON alerts (office, seq);
CREATE TABLE IF NOT EXISTS webhooks (
    hook_id TEXT PRIMARY KEY, office TEXT NOT NULL, url TEXT NOT NULL, secret TEXT NOT NULL,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    delivery_id INTEGER PRIMARY KEY AUTOINCREMENT, hook_id TEXT NOT NULL, office TEXT NOT NULL,
    alert_seq INTEGER NOT NULL, url TEXT NOT NULL, payload TEXT NOT NULL, status TEXT NOT NULL,
    attempts INTEGER NOT NULL, next_at REAL NOT NULL, claimed_until REAL NOT NULL DEFAULT 0,
    last_error TEXT, created_at TEXT NOT NULL, delivered_at TEXT);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_at);
CREATE INDEX IF NOT EXISTS deliveries_office ON deliveries (office, delivery_id);
"""

_ALERT_COLS = "seq, office, list_id, entry_id, record_office, record_id, digest, verdict, score, status, created_at, updated_at, detail"
_DELIVERY_COLS = "delivery_id, hook_id, office, alert_seq, url, payload, status, attempts, next_at, last_error, created_at, delivered_at"
_DELIVER = "INSERT INTO deliveries (hook_id, office, alert_seq, url, payload, status, attempts, next_at, created_at) VALUES (?,?,?,?,?,'pending',0,0,?)"
_HOOKS_OF = "SELECT hook_id, url FROM webhooks WHERE office = ?"
_Hooks = dict[str, list[tuple[str, str]]]  # office → (hook_id, url) of its webhooks


def _alert(row: Sequence[Any]) -> Alert:
    seq, office, list_id, entry_id, rec_office, rec_id, digest, verdict, score, status, created, updated, detail = row
    return Alert(seq, office, list_id, entry_id, rec_office, rec_id, digest, verdict, score, status, created, updated,
                 json.loads(detail))  # fmt: skip


def _pair(row: Sequence[Any]) -> Pair:
    entry_id, doc, verdict, digest, seq, dismissed, w, raw, names = row
    return Pair(entry_id, doc, verdict, digest, seq, dismissed, w, raw, tuple(json.loads(names or "[]")))


def _entry(doc: str) -> Entry:
    return Entry(**json.loads(doc))


class SQLiteWatch(SQLiteTables):
    """Watchlists, entries (with their keys and floors), pairs, alerts, webhooks and deliveries."""

    SCHEMA = _SCHEMA
    ADDED_COLUMNS = (
        ("watch_pairs", "raw", "TEXT"),
        ("watch_pairs", "names", "TEXT"),
        ("watch_floors", "top", "TEXT"),
        ("watch_floors", "last", "TEXT"),
        ("watch_entries", "kept", "BLOB"),
    )

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # -- lists and entries -------------------------------------------------------------------

    def add_list(self, wl: Watchlist) -> None:
        with self._tx() as conn:
            conn.execute("INSERT INTO watchlists VALUES (?,?,?,?)", (wl.list_id, wl.office, wl.name, wl.created_at))

    def _list(self, conn: sqlite3.Connection, where: str, arg: str) -> list[Watchlist]:
        rows = conn.execute(
            "SELECT l.list_id, l.office, l.name, l.created_at, "
            "(SELECT COUNT(*) FROM watch_entries e WHERE e.list_id = l.list_id) "
            f"FROM watchlists l WHERE {where} = ? ORDER BY l.created_at, l.list_id",
            (arg,),
        )
        return [Watchlist(*r) for r in rows]

    def get_list(self, list_id: str) -> Watchlist | None:
        found = self._list(self._conn(), "l.list_id", list_id)
        return found[0] if found else None

    def lists(self, office: str) -> list[Watchlist]:
        return self._list(self._conn(), "l.office", office)

    def delete_list(self, list_id: str) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM watchlists WHERE list_id = ?", (list_id,))

    def put_entries(self, entries: Sequence[ws.KeyedEntry]) -> None:
        with self._tx() as conn:
            for entry, postings, kept in entries:
                conn.execute(
                    "INSERT OR REPLACE INTO watch_entries (entry_id, list_id, office, doc, kept) VALUES (?,?,?,?,?)",
                    (entry.entry_id, entry.list_id, entry.office, json.dumps(entry.stored(), ensure_ascii=False), kept),
                )
                conn.execute("DELETE FROM watch_postings WHERE entry_id = ?", (entry.entry_id,))
                conn.executemany(
                    "INSERT OR REPLACE INTO watch_postings VALUES (?,?,?,?)",
                    [(h, etype, entry.entry_id, w) for h, etype, w in postings],
                )

    def get_entry(self, entry_id: str) -> Entry | None:
        row = self._conn().execute("SELECT doc FROM watch_entries WHERE entry_id = ?", (entry_id,)).fetchone()
        return _entry(row[0]) if row else None

    def entries(self, list_id: str) -> list[Entry]:
        rows = self._conn().execute("SELECT doc FROM watch_entries WHERE list_id = ? ORDER BY rowid", (list_id,))
        return [_entry(r[0]) for r in rows]

    def entries_by_id(self, entry_ids: Sequence[str]) -> dict[str, Entry]:
        found = (_entry(doc) for (doc,) in self._in("SELECT doc FROM watch_entries WHERE", "entry_id", entry_ids))
        return {e.entry_id: e for e in found}

    def all_entry_ids(self) -> list[str]:
        return [r[0] for r in self._conn().execute("SELECT entry_id FROM watch_entries ORDER BY rowid")]

    def delete_entry(self, entry_id: str) -> None:
        with self._tx() as conn:
            for table in ("watch_entries", "watch_postings", "watch_floors"):
                conn.execute(f"DELETE FROM {table} WHERE entry_id = ?", (entry_id,))

    def snapshot(self) -> Snapshot:
        conn = self._conn()
        conn.execute("BEGIN")  # one read transaction: the entries and keys of one moment
        try:
            rows = list(conn.execute("SELECT entry_id, doc, kept FROM watch_entries"))
            keys = tuple(conn.execute("SELECT entry_id, h, etype, w FROM watch_postings"))
            floors = tuple(conn.execute("SELECT entry_id, etype, tag, w, COALESCE(last, '') FROM watch_floors"))
        finally:
            conn.execute("COMMIT")
        kept = {e: blob for e, _, blob in rows if blob is not None}
        return Snapshot(tuple(_entry(doc) for _, doc, _ in rows), keys, floors, kept)

    def set_floors(self, floors: Sequence[ws.KeptFloor]) -> None:
        rows = [(e, t, tag, w, ws.top_text(top), ws.last_of(w, top)) for e, t, tag, w, top in floors]
        with self._tx() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO watch_floors (entry_id, etype, tag, w, top, last) VALUES (?,?,?,?,?,?)", rows
            )

    def tops(self, entry_ids: Sequence[str]) -> dict[tuple[str, str], tuple[str, ws.Top]]:
        rows = self._in(
            "SELECT entry_id, etype, tag, top FROM watch_floors WHERE top IS NOT NULL AND", "entry_id", entry_ids
        )
        return {(e, t): (tag, ws.top_of(top)) for e, t, tag, top in rows}

    def entry_versions(self) -> dict[str, int]:
        rows = self._conn().execute("SELECT entry_id, json_extract(doc, '$.version') FROM watch_entries")
        return {e: int(v) for e, v in rows}

    # -- pairs and alerts ----------------------------------------------------------------------

    def _in(self, select: str, column: str, values: Sequence[str], tail: str = "") -> Iterator[Any]:
        """The rows of ``select … <column> IN (…) tail`` for ``values``, 500 values a query."""
        values = list(values)
        for i in range(0, len(values), 500):
            part = values[i : i + 500]
            yield from self._conn().execute(f"{select} {column} IN ({','.join('?' * len(part))}) {tail}", part)

    def _pairs_in(self, column: str, values: Sequence[str]) -> list[Pair]:
        """The pairs whose ``column`` (entry_id or doc) is one of ``values``."""
        select = (
            "SELECT entry_id, doc, verdict, digest, alert_seq, dismissed_digest, w, raw, names FROM watch_pairs WHERE"
        )
        return [_pair(r) for r in self._in(select, column, values)]

    def pairs_of_docs(self, docs: Sequence[str]) -> list[Pair]:
        return self._pairs_in("doc", docs)

    def pairs_of_entries(self, entry_ids: Sequence[str]) -> dict[str, list[Pair]]:
        out: dict[str, list[Pair]] = {}
        for p in self._pairs_in("entry_id", entry_ids):
            out.setdefault(p.entry_id, []).append(p)
        return out

    def lightest_pairs(self, entry_ids: Sequence[str]) -> dict[str, float]:
        rows = self._in("SELECT entry_id, MIN(w) FROM watch_pairs WHERE", "entry_id", entry_ids, "GROUP BY entry_id")
        return {e: float(w) for e, w in rows}

    def apply(self, changes: Sequence[Change], now: str) -> list[int]:
        new: list[int] = []
        if not changes:
            return new
        hooks: _Hooks = {}  # by office, read once a transaction
        with self._tx() as conn:
            for ch in changes:
                if isinstance(ch, NewAlert):
                    new.append(self._new_alert(conn, ch, now, hooks))
                elif isinstance(ch, UpdatePair):
                    conn.execute(
                        "UPDATE watch_pairs SET verdict = ?, digest = ?, w = ?, raw = ?, names = ? "
                        "WHERE entry_id = ? AND doc = ?",
                        (ch.verdict, ch.digest, ch.weight, ch.raw, json.dumps(ch.names), ch.entry_id, ch.doc),
                    )
                elif isinstance(ch, ClosePair):
                    if ch.alert_seq is not None:
                        self._close(conn, ch.alert_seq, ch.reason, now)
                    conn.execute("DELETE FROM watch_pairs WHERE entry_id = ? AND doc = ?", (ch.entry_id, ch.doc))
        return new

    def _close(self, conn: sqlite3.Connection, seq: int, reason: str, now: str) -> None:
        row = conn.execute("SELECT detail FROM alerts WHERE seq = ? AND status IN ('open','acknowledged')", (seq,))
        found = row.fetchone()
        if found is None:
            return
        detail = {**json.loads(found[0]), "closed_because": reason}
        conn.execute(
            "UPDATE alerts SET status = 'closed', updated_at = ?, detail = ? WHERE seq = ?",
            (now, json.dumps(detail, ensure_ascii=False), seq),
        )

    def _new_alert(self, conn: sqlite3.Connection, ch: NewAlert, now: str, hooks: _Hooks) -> int:
        a = ch.alert
        if ch.supersedes is not None:
            self._close(conn, ch.supersedes, "superseded by a newer alert", now)
        cur = conn.execute(
            f"INSERT INTO alerts ({_ALERT_COLS}) VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?,?)",
            (a.office, a.list_id, a.entry_id, a.record_office, a.record_id, a.digest, a.verdict, a.score,
             a.status, now, now, json.dumps(a.detail, ensure_ascii=False)),
        )  # fmt: skip
        seq = int(cur.lastrowid or 0)
        doc = f"{a.record_office}:{a.record_id}"
        conn.execute(
            "INSERT OR REPLACE INTO watch_pairs (entry_id, doc, verdict, digest, alert_seq, dismissed_digest, w, raw, "
            "names) VALUES (?,?,?,?,?,NULL,?,?,?)",
            (a.entry_id, doc, a.verdict, a.digest, seq, ch.weight, ch.raw, json.dumps(ch.names, ensure_ascii=False)),
        )
        a.seq, a.created_at, a.updated_at = seq, now, now
        # Webhooks read once a transaction, a payload made only for them (a load writes thousands).
        if (targets := hooks.get(a.office)) is None:
            targets = hooks[a.office] = conn.execute(_HOOKS_OF, (a.office,)).fetchall()
        if targets:
            body = json.dumps(ws.payload_of(a), ensure_ascii=False, sort_keys=True)
            conn.executemany(_DELIVER, [(hook_id, a.office, seq, url, body, now) for hook_id, url in targets])
        return seq

    def alerts(self, f: AlertFilter) -> list[Alert]:
        where, args = ["office = ?", "seq > ?"], [f.office, f.after]
        if f.status:
            where.append("status = ?")
            args.append(f.status)
        if f.list_id:
            where.append("list_id = ?")
            args.append(f.list_id)
        rows = self._conn().execute(
            f"SELECT {_ALERT_COLS} FROM alerts WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?", (*args, f.limit)
        )
        return [_alert(r) for r in rows]

    def get_alert(self, seq: int) -> Alert | None:
        row = self._conn().execute(f"SELECT {_ALERT_COLS} FROM alerts WHERE seq = ?", (seq,)).fetchone()
        return _alert(row) if row else None

    def set_status(self, seq: int, status: str, reason: str | None, now: str) -> Alert:
        with self._tx() as conn:
            row = conn.execute(f"SELECT {_ALERT_COLS} FROM alerts WHERE seq = ?", (seq,)).fetchone()
            if row is None:
                raise NotFound(f"no alert {seq}", field="alert_id")
            alert = _alert(row)
            detail = {**alert.detail, "status_reason": reason} if reason else alert.detail
            conn.execute(
                "UPDATE alerts SET status = ?, updated_at = ?, detail = ? WHERE seq = ?",
                (status, now, json.dumps(detail, ensure_ascii=False), seq),
            )
            if status == "dismissed":
                conn.execute(
                    "UPDATE watch_pairs SET dismissed_digest = digest WHERE entry_id = ? AND doc = ? AND alert_seq = ?",
                    (alert.entry_id, f"{alert.record_office}:{alert.record_id}", seq),
                )
            alert.status, alert.updated_at, alert.detail = status, now, detail
            return alert

    def unread(self, office: str) -> int:
        row = self._conn().execute("SELECT COUNT(*) FROM alerts WHERE office = ? AND status = 'open'", (office,))
        return int(row.fetchone()[0])

    # -- webhooks and their outbox ---------------------------------------------------------------

    def add_hook(self, hook: Webhook) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO webhooks VALUES (?,?,?,?,?)",
                (hook.hook_id, hook.office, hook.url, hook.secret, hook.created_at),
            )

    def hooks(self, office: str) -> list[Webhook]:
        rows = self._conn().execute("SELECT * FROM webhooks WHERE office = ? ORDER BY created_at, hook_id", (office,))
        return [Webhook(*r) for r in rows]

    def secret_of(self, hook_id: str) -> str | None:
        row = self._conn().execute("SELECT secret FROM webhooks WHERE hook_id = ?", (hook_id,)).fetchone()
        return str(row[0]) if row else None

    def delete_hook(self, hook_id: str) -> bool:
        with self._tx() as conn:
            gone = conn.execute("DELETE FROM webhooks WHERE hook_id = ?", (hook_id,)).rowcount > 0
            # What it still owed is not sent to a URL its office took back.
            conn.execute(
                "UPDATE deliveries SET status = 'dead', last_error = 'webhook deleted' "
                "WHERE hook_id = ? AND status = 'pending'",
                (hook_id,),
            )
            return gone

    def claim(self, now: float, lease: float, limit: int) -> list[Delivery]:
        with self._tx() as conn:
            rows = conn.execute(
                f"SELECT {_DELIVERY_COLS} FROM deliveries WHERE status = 'pending' AND next_at <= ? "
                "AND claimed_until <= ? ORDER BY next_at, delivery_id LIMIT ?",
                (now, now, limit),
            ).fetchall()
            conn.executemany(
                "UPDATE deliveries SET claimed_until = ? WHERE delivery_id = ?", [(now + lease, r[0]) for r in rows]
            )
        return [Delivery(*r) for r in rows]

    def delivered(self, delivery_id: int, now_iso: str) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = ?, "
                "claimed_until = 0, last_error = NULL WHERE delivery_id = ?",
                (now_iso, delivery_id),
            )

    def failed(self, delivery_id: int, error: str, next_at: float | None) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_error = ?, claimed_until = 0, "
                "status = ?, next_at = ? WHERE delivery_id = ?",
                (error[:500], "dead" if next_at is None else "pending", next_at or 0, delivery_id),
            )

    def deliveries(self, office: str, status: str | None, limit: int) -> list[Delivery]:
        where, args = "office = ?", [office]
        if status:
            where, args = where + " AND status = ?", [office, status]
        rows = self._conn().execute(
            f"SELECT {_DELIVERY_COLS} FROM deliveries WHERE {where} ORDER BY delivery_id DESC LIMIT ?", (*args, limit)
        )
        return [Delivery(*r) for r in rows]

    def redeliver(self, delivery_id: int, office: str, now: float) -> Delivery | None:
        with self._tx() as conn:
            n = conn.execute(
                "UPDATE deliveries SET status = 'pending', attempts = 0, next_at = ?, claimed_until = 0 "
                "WHERE delivery_id = ? AND office = ? AND status != 'pending'",
                (now, delivery_id, office),
            ).rowcount
            if not n:
                return None
            row = conn.execute(f"SELECT {_DELIVERY_COLS} FROM deliveries WHERE delivery_id = ?", (delivery_id,))
            return Delivery(*row.fetchone())

    def next_due(self) -> float | None:
        row = self._conn().execute("SELECT MIN(MAX(next_at, claimed_until)) FROM deliveries WHERE status = 'pending'")
        value = row.fetchone()[0]
        return float(value) if value is not None else None
