"""Standing watchlists, their alerts and the office's webhooks over HTTP.

- ``/watchlists…``: an analyst or office-admin (``watch``) creates, lists and deletes its office's
  lists and adds, changes and removes entries (JSON or a watchlist file); a new or changed entry is
  screened at once.
- ``/alerts``: the office's alerts, oldest first after a cursor (``after``), paginated; acknowledge
  or dismiss one (a dismissal needs a reason and silences that pair until the record changes).
- ``/webhooks…``: an office-admin (``webhooks``) adds and removes webhooks (the secret is shown
  once), reads the delivery log and redelivers a dead or delivered one.

Everything belongs to the caller's office: another office's ids answer 404. Every change is audited.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from api.http.deps import HookAdmin, StateDep, WatchCaller
from api.http.screening_flows import UPLOAD_SUFFIXES
from indexer.intake.readers import FileError, FileTooLarge
from search.errors import InvalidInput, PayloadTooLarge
from search.watching.model import Entry

# Sequence numbers fit SQLite's 64-bit integers; a larger one is a 422, never an overflow (a 500).
SeqId = Annotated[int, Path(ge=1, le=2**62)]
router = APIRouter(tags=["watchlists"])
hooks_router = APIRouter(tags=["webhooks"])


class ListIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, examples=["Guangzhou raids, winter 2026"])


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=10_000, examples=["陳大文"])
    entity_type: Literal["person", "company"] | None = Field(default=None, examples=["person"])
    id_number: str | None = Field(default=None, max_length=100, examples=[None])
    birth_date: str | None = Field(default=None, max_length=40, examples=["1971-02-11"])
    gender: str | None = Field(default=None, max_length=20, examples=[None])
    reference: str | None = Field(default=None, max_length=200, examples=["GD-2026-0117"])
    note: str | None = Field(default=None, max_length=2000, examples=["seen at the Baiyun market"])


class EntriesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entries: list[EntryIn] = Field(min_length=1, max_length=1000)


class EntryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=10_000)
    entity_type: Literal["person", "company"] | None = None
    id_number: str | None = Field(default=None, max_length=100)
    birth_date: str | None = Field(default=None, max_length=40)
    gender: str | None = Field(default=None, max_length=20)
    reference: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=2000)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=1000, examples=["a namesake: born 1985, ours 1971"])


class HookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=2000, examples=["https://alerts.example.gov.hk/suspects"])
    secret: str | None = Field(default=None, min_length=16, max_length=200, description="Generated if not given.")


@router.post("/watchlists", status_code=201, summary="Create a standing watchlist for your office")
def create_list(body: ListIn, state: StateDep, who: WatchCaller) -> dict[str, Any]:
    wl = state.watching.create_list(who.office, body.name)
    state.audit(who, "watch.list.create", [], wl.to_dict())
    return wl.to_dict()


@router.get("/watchlists", summary="Your office's watchlists")
def lists(state: StateDep, who: WatchCaller) -> list[dict[str, Any]]:
    return [w.to_dict() for w in state.watching.lists(who.office)]


@router.get("/watchlists/{list_id}", summary="One watchlist with its entries")
def get_list(list_id: str, state: StateDep, who: WatchCaller) -> dict[str, Any]:
    wl = state.watching.get_list(who.office, list_id)
    return {**wl.to_dict(), "items": [e.to_dict() for e in state.watching.entries(who.office, list_id)]}


@router.delete("/watchlists/{list_id}", summary="Delete a watchlist and its entries (their open alerts close)")
def delete_list(list_id: str, state: StateDep, who: WatchCaller) -> dict[str, Any]:
    n = state.watching.delete_list(who.office, list_id)
    state.audit(who, "watch.list.delete", [], {"list_id": list_id, "entries": n})
    return {"deleted": list_id, "entries": n}


@router.post("/watchlists/{list_id}/entries", status_code=201, summary="Add entries; each is screened at once")
def add_entries(list_id: str, body: EntriesIn, state: StateDep, who: WatchCaller) -> dict[str, Any]:
    w = state.watching
    w.get_list(who.office, list_id)
    entries: list[Entry] = []
    for i, e in enumerate(body.entries):
        try:
            entries.append(
                w.new_entry(
                    who.office, list_id, e.name, e.entity_type, e.id_number, e.birth_date, e.gender, e.reference, e.note
                )
            )
        except InvalidInput as exc:
            exc.field = f"entries.{i}.{exc.field}" if exc.field else f"entries.{i}"
            raise
    new = w.add(who.office, list_id, entries)
    state.audit(who, "watch.entries.add", [e.name for e in entries], {"list_id": list_id, "alerts": len(new)})
    return {"entries": [e.to_dict() for e in entries], "alerts": len(new)}


@router.post("/watchlists/{list_id}/upload", summary="Add entries from a watchlist file (CSV, XLSX, JSONL)")
def upload_entries(list_id: str, file: UploadFile, state: StateDep, who: WatchCaller) -> dict[str, Any]:
    """The file format of ``suspects check`` and ``POST /screenings`` (its ``query_id`` becomes the
    entry's reference). Every row is stored as an entry or reported rejected with its line."""
    state.watching.get_list(who.office, list_id)
    suffix = FilePath(file.filename or "upload.csv").suffix.lower() or ".csv"
    if suffix not in UPLOAD_SUFFIXES:
        raise InvalidInput(f"unsupported file type {suffix[:20]!r}: use .csv, .xlsx or .jsonl", field="file")
    folder = FilePath(tempfile.mkdtemp(prefix="suspects-watch-"))
    try:
        path = folder / f"upload{suffix}"
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out)
        report = state.watching.upload(who.office, list_id, path, state.settings.max_screening_rows)
    except FileError as exc:
        error = PayloadTooLarge if isinstance(exc, FileTooLarge) else InvalidInput
        raise error(f"{file.filename}: {exc}", field="file") from exc
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    state.audit(who, "watch.entries.upload", [], {"list_id": list_id, "file": file.filename,
                                                   **{k: report[k] for k in ("read", "stored", "rejected", "alerts")}})  # fmt: skip
    return report


@router.patch("/watchlists/{list_id}/entries/{entry_id}", summary="Change an entry; it is screened again")
def update_entry(list_id: str, entry_id: str, body: EntryPatch, state: StateDep, who: WatchCaller) -> dict[str, Any]:
    w = state.watching
    if w.entry(who.office, entry_id).list_id != list_id:
        w.get_list(who.office, list_id)
        raise InvalidInput(f"entry {entry_id!r} is not in watchlist {list_id!r}", field="entry_id")
    entry, new = w.update(who.office, entry_id, body.model_dump(exclude_unset=True))
    state.audit(who, "watch.entry.update", [entry.name], {"entry_id": entry_id, "alerts": len(new)})
    return {**entry.to_dict(), "alerts": len(new)}


@router.delete("/watchlists/{list_id}/entries/{entry_id}", summary="Remove an entry (its open alerts close)")
def remove_entry(list_id: str, entry_id: str, state: StateDep, who: WatchCaller) -> dict[str, Any]:
    entry = state.watching.entry(who.office, entry_id)
    if entry.list_id != list_id:
        raise InvalidInput(f"entry {entry_id!r} is not in watchlist {list_id!r}", field="entry_id")
    state.watching.remove(who.office, entry_id)
    state.audit(who, "watch.entry.remove", [entry.name], {"entry_id": entry_id})
    return {"removed": entry_id}


@router.get("/alerts", tags=["alerts"], summary="Your office's alerts after a cursor, oldest first")
def alerts(
    state: StateDep,
    who: WatchCaller,
    after: Annotated[int, Query(ge=0, le=2**62, description="The last alert_id you have; 0 for the first page.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    status: Annotated[str | None, Query(description="open, acknowledged, dismissed or closed.")] = None,
    list_id: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    found = state.watching.alerts(who.office, after, limit, status, list_id)
    state.audit(who, "alerts.read", [], {"after": after, "returned": len(found)})
    return {
        "alerts": [a.to_dict() for a in found],
        "next_cursor": found[-1].seq if found else after,
        "more": len(found) == limit,
        "unread": state.watching.store.unread(who.office),
    }


@router.get("/alerts/{alert_id}", tags=["alerts"], summary="One alert: the entry and the record side by side")
def alert(alert_id: SeqId, state: StateDep, who: WatchCaller) -> dict[str, Any]:
    return state.watching.alert(who.office, alert_id).to_dict()


@router.post("/alerts/{alert_id}/{action}", tags=["alerts"], summary="Acknowledge or dismiss an alert")
def decide(
    alert_id: SeqId, action: Literal["acknowledge", "dismiss"], body: DecisionIn, state: StateDep, who: WatchCaller
) -> dict[str, Any]:
    status = "acknowledged" if action == "acknowledge" else "dismissed"
    a = state.watching.decide(who.office, alert_id, status, body.reason)
    state.audit(who, f"alert.{action}", [], {"alert_id": alert_id, "reason": body.reason})
    return a.to_dict()


@hooks_router.post("/webhooks", status_code=201, summary="Add a webhook for your office (its secret is shown once)")
def add_hook(body: HookIn, state: StateDep, who: HookAdmin) -> dict[str, Any]:
    hook = state.watching.add_hook(who.office, body.url, body.secret)
    state.audit(who, "webhook.create", [], hook.public())
    return {**hook.public(), "secret": hook.secret}


@hooks_router.get("/webhooks", summary="Your office's webhooks (never their secrets)")
def hooks(state: StateDep, who: HookAdmin) -> list[dict[str, Any]]:
    return [h.public() for h in state.watching.store.hooks(who.office)]


@hooks_router.delete("/webhooks/{hook_id}", summary="Remove a webhook (what it still owed is not sent)")
def remove_hook(hook_id: str, state: StateDep, who: HookAdmin) -> dict[str, Any]:
    state.watching.remove_hook(who.office, hook_id)
    state.audit(who, "webhook.delete", [], {"hook_id": hook_id})
    return {"removed": hook_id}


@hooks_router.get("/webhooks/deliveries", summary="The delivery log: newest first")
def deliveries(
    state: StateDep,
    who: HookAdmin,
    status: Annotated[Literal["pending", "delivered", "dead"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return [d.to_dict() for d in state.watching.store.deliveries(who.office, status, limit)]


@hooks_router.post("/webhooks/deliveries/{delivery_id}/redeliver", summary="Send a delivery again")
def redeliver(delivery_id: SeqId, state: StateDep, who: HookAdmin) -> dict[str, Any]:
    d = state.watching.redeliver(who.office, delivery_id)
    state.audit(who, "webhook.redeliver", [], {"delivery_id": delivery_id})
    if state.deliverer is not None:
        state.deliverer.wake()
    return d.to_dict()
