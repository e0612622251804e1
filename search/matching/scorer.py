"""The scorer: one query profile against one candidate profile → score, verdict, explanation.

Precision lives here. The store returns candidates that share keys; this module decides, feature by
feature, and every feature it used appears in the explanation with its value and the compared
forms. Deterministic, no network, no model.

The score starts from the best name agreement and is then moved by the other evidence:
- an identical identifier makes a match whatever the names say (a renamed company keeps its USCC);
- a conflicting identifier of the same kind, a conflicting birth date or gender marks a namesake;
- region and industry conflicts separate firms that share a brand (广州鑫源贸易 / 泉州鑫源贸易).
The multipliers and the threshold were set on the benchmark's development seed and are reported on
a different seed (bench/accuracy.py); each one names the benchmark category it fixes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from indexer.names.companies import CompanyForm
from indexer.names.identifiers import Identifier
from indexer.names.text import fold_width
from indexer.records import EntityProfile
from search.matching.similarity import (
    SYSTEM_LABELS,
    NameMatch,
    company_similarity,
    guesses,
    is_homophone,
    person_similarity,
)

# Verdict threshold. Dev-seed sweep (bench/accuracy.py --sweep): F1 is flat between 0.78 and 0.84.
THRESHOLD = 0.80
# Below the threshold but at least this, with nothing conflicting: "possible", worth a human look.
POSSIBLE = 0.70
# Uncertain steps a name agreement may rest on and still be confirmed without an ID or birth date.
MAX_STEPS = 1

ID_CONFLICT = 0.45  # namesake_id_conflict: same name, different verified ID number
UNVERIFIED_ID_CONFLICT = 0.75  # a bad check digit may be a typo of the same number
DOB_CONFLICT = 0.55  # namesake_dob_conflict: same name, different full birth date
DOB_MATCH_GAIN = 0.5  # closes half the gap to 1.0: a name near-miss with the same birth date
GENDER_CONFLICT = 0.6  # namesake_gender
REGION_CONFLICT = 0.6  # company_other_city
INDUSTRY_CONFLICT = 0.65  # company_other_industry
ID_MATCH_FLOOR = 0.97  # company_renamed_same_uscc, person_id_only
UNVERIFIED_ID_MATCH_FLOOR = 0.88


@dataclass(frozen=True, slots=True)
class Feature:
    """One piece of evidence: its name, its value, and a human-readable line."""

    feature: str
    value: float | str
    detail: str
    query: str | None = None
    candidate: str | None = None

    def __reduce__(self) -> tuple[type[Feature], tuple[str, float | str, str, str | None, str | None]]:
        # Rebuilt by its constructor: a slotted dataclass's own pickling walks its fields by
        # name, and a load's writing process unpickles every verdict its workers reached (see
        # Decision.__reduce__).
        return Feature, (self.feature, self.value, self.detail, self.query, self.candidate)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"feature": self.feature, "value": self.value, "detail": self.detail}
        if self.query is not None:
            out["query"] = self.query
        if self.candidate is not None:
            out["candidate"] = self.candidate
        return out


@dataclass(slots=True)
class Decision:
    """The scorer's verdict on one candidate: ``match`` (the same entity), ``possible`` (worth a
    human look, not confirmed; ``doubt`` says why) or ``none``."""

    score: float
    match: bool
    features: list[Feature] = field(default_factory=list)
    verdict: str = "none"
    doubt: str | None = None
    name_system: str | None = None  # how the names met: chars, latin, py, wg, ct

    def __reduce__(
        self,
    ) -> tuple[type[Decision], tuple[float, bool, list[Feature], str, str | None, str | None]]:
        # The reverse lookup's verdicts travel from a load's workers to its writing process
        # (search.watching.reverse.hits_of); the dataclass's own __setstate__ and fields() were
        # 1.0 s of the writing process on the realistic HK file into the watched ten offices (py-spy).
        return Decision, (self.score, self.match, self.features, self.verdict, self.doubt, self.name_system)


def _name_feature(m: NameMatch) -> Feature:
    label = SYSTEM_LABELS[m.system]
    if m.similarity >= 0.999 and m.system == "chars" and fold_width(m.query) != fold_width(m.candidate):
        # Equal only once folded to one script: "identical" would hide that (issue #15).
        detail = f"{m.query} ⇄ {m.candidate} ({label}: traditional ⇄ simplified)"
    elif m.similarity >= 0.999:
        detail = f"{m.query} = {m.candidate} ({label}: identical)"
    elif m.query_reading and m.query_reading == m.candidate_reading:
        detail = f"{m.query} ⇄ {m.candidate} ({label}: {m.query_reading})"
    else:
        detail = (
            f"{m.query} ~ {m.candidate} ({label}: {m.query_reading or m.query} vs {m.candidate_reading or m.candidate})"
        )
    return Feature("name", round(m.similarity, 4), detail, m.query, m.candidate)


def best_name(query: EntityProfile, candidate: EntityProfile) -> NameMatch | None:
    """The best name agreement over every name and alias pair."""
    best: NameMatch | None = None
    if query.entity_type == "company":
        for cq in query.companies:
            for cc in candidate.companies:
                m = company_similarity(cq, cc)
                if best is None or m.similarity > best.similarity:
                    best = m
        return best
    # Both sides written in characters: the characters decide, never one side's romanization. A
    # Macau record "WONG Uk Man" with its own name 王鈺雯 matched the query 王育敏 through the
    # Cantonese reading of its Latin form (the demo's sample data), a "seen" on another person.
    both_han = any(n.han for n in query.names) and any(n.han for n in candidate.names)
    for nq in query.names:
        for nc in candidate.names:
            if both_han and bool(nq.han) != bool(nc.han):
                continue
            m = person_similarity(nq, nc)
            if best is None or m.similarity > best.similarity:
                best = m
                if m.similarity >= 1.0:
                    return best
    return best


def _identifiers(
    q: tuple[Identifier, ...], c: tuple[Identifier, ...]
) -> tuple[Identifier | None, list[tuple[Identifier, Identifier]]]:
    same: Identifier | None = None
    conflicts: list[tuple[Identifier, Identifier]] = []
    for kind in {i.kind for i in q} & {i.kind for i in c}:
        if kind in ("other", "phone"):
            qv = {i.value for i in q if i.kind == kind}
            hit = next((i for i in c if i.kind == kind and i.value in qv), None)
            same = same or hit
            continue
        qs = [i for i in q if i.kind == kind]
        cs = [i for i in c if i.kind == kind]
        hit = next((x for x in cs if any(x.value == y.value for y in qs)), None)
        if hit is not None:
            same = hit if same is None or hit.verified else same
        else:
            conflicts.append((qs[0], cs[0]))
    if same is None:
        # 'other' identifiers of unknown kind still match exactly across kinds.
        qv = {i.value for i in q}
        same = next((i for i in c if i.value in qv), None)
    return same, conflicts


def _dates(q: str, c: str) -> str:
    n = min(len(q), len(c))
    if q[:n] != c[:n]:
        return "conflict"
    return "match" if len(q) == len(c) == 10 else "partial"


def score(query: EntityProfile, candidate: EntityProfile) -> Decision:
    """Score one candidate against the query and explain every feature used."""
    features: list[Feature] = []
    name = best_name(query, candidate)
    s = name.similarity if name is not None else 0.0
    if name is not None:
        features.append(_name_feature(name))
    else:
        features.append(Feature("name", 0.0, "no comparable name"))

    same_id, conflicts = _identifiers(query.identifiers, candidate.identifiers)
    if same_id is not None:
        floor = ID_MATCH_FLOOR if same_id.verified else UNVERIFIED_ID_MATCH_FLOOR
        s = max(s, floor + (1.0 - floor) * s)
        state = "verified" if same_id.verified else "unverified check digit"
        features.append(Feature("id_number", 1.0, f"{same_id.kind} identical: {same_id.value} ({state})"))
    for qi, ci in conflicts:
        both = qi.verified and ci.verified
        s *= ID_CONFLICT if both else UNVERIFIED_ID_CONFLICT
        features.append(
            Feature("id_number", -1.0, f"{qi.kind} conflicts: {qi.value} vs {ci.value}", qi.value, ci.value)
        )

    if query.birth_date and candidate.birth_date:
        state = _dates(query.birth_date, candidate.birth_date)
        if state == "conflict":
            s *= DOB_CONFLICT
            features.append(
                Feature(
                    "birth_date",
                    -1.0,
                    f"birth date conflicts: {query.birth_date} vs {candidate.birth_date}",
                    query.birth_date,
                    candidate.birth_date,
                )
            )
        elif state == "match":
            s += (1.0 - s) * DOB_MATCH_GAIN
            features.append(
                Feature(
                    "birth_date",
                    1.0,
                    f"birth date identical: {query.birth_date}",
                    query.birth_date,
                    candidate.birth_date,
                )
            )
        else:
            features.append(
                Feature(
                    "birth_date",
                    0.5,
                    f"birth date agrees as far as known: {query.birth_date} vs {candidate.birth_date}",
                    query.birth_date,
                    candidate.birth_date,
                )
            )

    if query.gender and candidate.gender and query.gender != candidate.gender:
        s *= GENDER_CONFLICT
        features.append(
            Feature(
                "gender",
                -1.0,
                f"gender conflicts: {query.gender} vs {candidate.gender}",
                query.gender,
                candidate.gender,
            )
        )

    if query.entity_type == "company":
        s = _company_evidence(query, candidate, s, features, same_id is not None, name)

    s = max(0.0, min(1.0, s))
    system = name.system if name is not None else None
    if s < POSSIBLE:  # most candidates: nothing more to weigh
        return Decision(round(s, 4), False, features, name_system=system)
    dob_same = bool(
        query.birth_date and candidate.birth_date and _dates(query.birth_date, candidate.birth_date) == "match"
    )
    verdict, doubt = _verdict(s, name, features, same_id is not None or dob_same)
    return Decision(round(s, 4), verdict == "match", features, verdict, doubt, system)


def _verdict(s: float, name: NameMatch | None, features: list[Feature], confirmed: bool) -> tuple[str, str | None]:
    """The ladder of evidence: a score over the threshold is a match when its name agreement rests
    on at most one uncertain step, or when an identical ID or birth date confirms it; two stacked
    guesses (a surname assumed last *and* a fuzzy initial; 韓振 for "Fan Cheng" through f/h, ch/zh
    and n/ng) are only possible. Below the threshold, a candidate with nothing conflicting is
    possible down to :data:`POSSIBLE`."""
    steps = name.steps if name is not None else ()
    if s >= THRESHOLD:
        weight = guesses(steps)
        if weight > MAX_STEPS and not confirmed:
            if all(is_homophone(step) for step in steps):
                why = f"other characters that sound the same ({'; '.join(steps)})"
            else:
                why = f"rests on {weight} guesses ({'; '.join(steps)})"
            return "possible", f"{why}: an ID number or birth date would confirm it"
        return "match", None
    conflict = any(isinstance(f.value, float) and f.value <= -1.0 for f in features)
    if s >= POSSIBLE and not conflict:
        why = f"; {'; '.join(steps)}" if steps else ""
        return "possible", f"score {s:.2f} is below the {THRESHOLD:.2f} of a match{why}"
    return "none", None


def _evidence_form(p: EntityProfile, matched: str | None) -> CompanyForm | None:
    """The company form whose name agreed, and where it names no place, with the place another
    form of the same record names. A Hong Kong or Macau record keeps its Chinese name as an alias
    ("Wai Yi Shun Optical Limited" / 昭通市維爾遜眼鏡股份有限公司): reading the English name's
    region (none) let 维尔逊眼镜（深圳） match the Zhaotong firm at 0.97, the region conflict unseen
    (bench/store_precision.py on the realistic million)."""
    if not p.companies:
        return None
    form = next((f for f in p.companies if f.original == matched), p.companies[0])
    if form.region is None:
        placed = next((f for f in p.companies if f.region is not None), None)
        if placed is not None:
            form = replace(form, region=placed.region, region_alternatives=placed.region_alternatives)
    return form


def _company_evidence(
    query: EntityProfile,
    candidate: EntityProfile,
    s: float,
    features: list[Feature],
    id_match: bool,
    name: NameMatch | None,
) -> float:
    q = _evidence_form(query, name.query if name is not None else None)
    c = _evidence_form(candidate, name.candidate if name is not None else None)
    if q is None or c is None:
        return s
    rel = q.region_relation(c)
    if q.region is not None and c.region is not None:
        if rel == "conflict":
            s *= 1.0 if id_match else REGION_CONFLICT
            features.append(
                Feature(
                    "region",
                    -1.0,
                    f"region conflicts: {q.region.name} vs {c.region.name}",
                    q.region.name,
                    c.region.name,
                )
            )
        else:
            features.append(
                Feature(
                    "region", 1.0, f"region agrees: {q.region.name} / {c.region.name}", q.region.name, c.region.name
                )
            )
    if q.industries and c.industries:
        if q.industries & c.industries:
            shown = ", ".join(sorted(q.industries & c.industries))
            features.append(Feature("industry", 1.0, f"industry agrees: {shown}"))
        else:
            s *= 1.0 if id_match else INDUSTRY_CONFLICT
            qs, cs = ", ".join(sorted(q.industries)), ", ".join(sorted(c.industries))
            features.append(Feature("industry", -1.0, f"industry conflicts: {qs} vs {cs}", qs, cs))
    if q.legal_form and c.legal_form:
        same = q.legal_form == c.legal_form
        # Weak evidence only: offices write 有限公司 / 有限责任公司 / Co., Ltd. for one firm.
        features.append(
            Feature(
                "legal_form",
                0.1 if same else -0.1,
                f"legal form {'agrees' if same else 'differs'}: {q.legal_form} / {c.legal_form}",
            )
        )
    return s
