"""Property tests: no normalizer raises on arbitrary Unicode; folding is idempotent; keys are
deterministic."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.keys import profile_keys
from indexer.names.companies import company_forms
from indexer.names.identifiers import parse_identifier, parse_phone
from indexer.names.persons import person_forms
from indexer.names.text import fold
from indexer.records import clean_date, profile
from search.matching.scorer import score

# Text weighted toward what names are made of: Han, Latin, digits, punctuation, plus anything.
name_text = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(list("陳大文张伟欧阳區曾（）()·・ -,'.ABCabc123ＡＢ　")), max_size=20),
    st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=8),
)


@settings(max_examples=300, deadline=None)
@given(name_text)
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once


@settings(max_examples=300, deadline=None)
@given(name_text)
def test_normalizers_never_raise(text: str) -> None:
    person_forms(text)
    company_forms(text)
    parse_identifier(text)
    parse_identifier(text, "company")
    parse_phone(text)


@settings(max_examples=200, deadline=None)
@given(name_text, st.sampled_from(["person", "company"]))
def test_keys_are_deterministic_and_scoring_total(text: str, entity_type: str) -> None:
    p1 = profile(entity_type, text)
    p2 = profile(entity_type, text)
    assert profile_keys(p1) == profile_keys(p2)
    decision = score(p1, p2)
    assert 0.0 <= decision.score <= 1.0


@given(st.dates(), st.sampled_from(["-", "/", "年"]))
@settings(max_examples=300, deadline=None)
def test_a_date_reads_the_same_in_any_written_form(d: date, sep: str) -> None:
    # The ISO fast path of clean_date and its general path agree (1971-02-11, 1971/2/11, 1971年2月11日).
    written = f"{d.year:04d}年{d.month}月{d.day}日" if sep == "年" else f"{d.year:04d}{sep}{d.month}{sep}{d.day}"
    assert clean_date(d.isoformat()) == clean_date(written) == d.isoformat()


@given(st.integers(1000, 9999), st.integers(0, 99), st.integers(0, 99))
def test_an_impossible_iso_date_is_refused(y: int, m: int, dd: int) -> None:
    text = f"{y:04d}-{m:02d}-{dd:02d}"
    try:
        expected: str | None = date(y, m, dd).isoformat()
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(ValueError):
            clean_date(text)
    else:
        assert clean_date(text) == expected
