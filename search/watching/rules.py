"""What a write concerns, and the one rule for what a screening's verdict on an (entry, record)
pair changes (:func:`transition`); :mod:`search.watching.screen` applies them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from search.matching.demotion import basis
from search.matching.results import Match
from search.watching.model import Alert, Entry, Pair
from search.watching.reverse import Entering, by_rank
from search.watching.store import Change, ClosePair, NewAlert, Top, UpdatePair


@dataclass(frozen=True, slots=True)
class Found:
    """The scorer's own verdict on a written record (before any demotion), and the Chinese names a
    match by reading stands for."""

    match: Match
    names: tuple[str, ...]
    digest: str  # the written record's content digest (the load computed it)


@dataclass(slots=True)
class Affected:
    """What a write concerns: entries to screen forward in full, and entries concerned only
    because the scorer gave a verdict on written records (those verdicts, by record)."""

    full: set[str] = field(default_factory=set)
    ranked: set[str] = field(default_factory=set)  # a written record may outrank a paired one
    direct: dict[str, dict[str, Found]] = field(default_factory=dict)
    entering: dict[str, Entering] = field(default_factory=dict)  # see Watcher.screen
    # Paired records written again, by entry, each sharing at least the weight its pair was
    # ranked at: the written record's new verdict replaces the pair's (see Watcher.affected_by).
    rewritten: dict[str, set[str]] = field(default_factory=dict)

    def merge(self, other: Affected, k: int) -> None:
        self.full |= other.full
        self.ranked |= other.ranked
        for entry_id, docs in other.rewritten.items():
            self.rewritten.setdefault(entry_id, set()).update(docs)
        for entry_id, found in other.direct.items():
            self.direct.setdefault(entry_id, {}).update(found)
        for entry_id, e in other.entering.items():
            mine = self.entering.get(entry_id)
            if mine is None:
                self.entering[entry_id] = e
            else:
                mine.merge(e, k)

    def __bool__(self) -> bool:
        return bool(self.full or self.ranked or self.direct or self.entering or self.rewritten)

    def drop_full(self) -> None:
        """Entries screened in full need no short cut."""
        for entry_id in self.full:
            self.direct.pop(entry_id, None)
            self.rewritten.pop(entry_id, None)
        self.ranked -= self.full


@dataclass(frozen=True, slots=True)
class Seen:
    """What the forward screening of one entry said about one record."""

    verdict: str
    match: Match
    digest: str
    weight: float  # summed weight of the keys the record shares with the entry
    raw: str  # see Pair.raw, Pair.names
    names: tuple[str, ...]


_ALERTED_FIELDS = ("name", "entity_type", "id_number", "birth_date", "reference", "note")


def transition(old: Pair | None, entry: Entry, doc: str, seen: Seen | None, trigger: str) -> Change | None:
    """The one rule: what a screening's verdict on (entry, record) changes.

    - a new positive verdict alerts; a positive verdict on a pair that had none before too;
    - the same verdict again alerts nobody, on the same record version or a changed one
      (a reload of an unchanged file, or an edit that leaves the verdict as it was);
    - a changed verdict (possible → match) alerts again and supersedes the earlier alert;
    - a dismissed pair stays silent until the record changes;
    - no verdict any more (the record changed away, or was withdrawn) closes the open alert."""
    if seen is None:
        if old is None:
            return None
        return ClosePair(entry.entry_id, doc, old.alert_seq, "the record no longer matches")
    if old is not None:
        dismissed_here = old.dismissed_digest is not None and old.dismissed_digest == seen.digest
        unchanged = old.verdict == seen.verdict and (old.digest == seen.digest or old.dismissed_digest is None)
        if dismissed_here or unchanged:
            if (old.verdict, old.digest, old.weight, old.raw, old.names) == (
                seen.verdict, seen.digest, seen.weight, seen.raw, seen.names
            ):  # fmt: skip
                return None
            return UpdatePair(entry.entry_id, doc, seen.verdict, seen.digest, seen.weight, seen.raw, seen.names)
    rec = seen.match.record
    detail = {
        # getattr, not dataclasses.asdict (which deep-copies every field): 12 % of a load's end that
        # wrote 15,281 alerts (py-spy, bench/watching.py's HK file into the watched ten offices).
        "entry": {k: getattr(entry, k) for k in _ALERTED_FIELDS},
        "record": seen.match.to_dict(),
        "trigger": trigger,
    }
    alert = Alert(0, entry.office, entry.list_id, entry.entry_id, rec.office, rec.record_id, seen.digest,
                  seen.verdict, round(seen.match.decision.score, 4), "open", "", "", detail)  # fmt: skip
    return NewAlert(alert, old.alert_seq if old is not None else None, seen.weight, seen.raw, seen.names)


def ranked_top(top: Top, written: dict[str, float], k: int) -> Top:
    """/match's K best after a write: the K best before it, with the written records that share at
    least the K-th's weight, ranked (a write that lowers a kept candidate's weight screens the entry
    in full instead: ReverseJudge.lowered)."""
    if not written:
        return top[:k]  # kept in that order
    both = dict(top)
    both.update(written)
    return tuple(sorted(both.items(), key=by_rank)[:k])


def sound_alike_at_stake(kept: list[Pair], fresh: dict[str, Found]) -> bool:
    """Could :func:`demote_sound_alike` decide this entry's answer? When it holds a match by
    reading on a record without Chinese names and a possible on a record with some (the only kind
    of pair that can sound alike; its names are kept with it). The pairs do not keep which names
    sound alike, so such an entry is screened in full."""
    read = any(p.raw is None or (p.raw == "reading" and not p.names) for p in kept) or any(
        basis(f.match.decision) == "reading" and not f.names for f in fresh.values()
    )
    alike = any(p.raw is None or (p.raw == "possible" and p.names) for p in kept) or any(
        f.match.decision.verdict == "possible" and f.names for f in fresh.values()
    )
    return read and alike
