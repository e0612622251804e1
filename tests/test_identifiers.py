"""Identifiers: every kind, valid and invalid, formatting noise, legacy IDs."""

from __future__ import annotations

import random

import pytest

from indexer.names.identifiers import parse_identifier, parse_phone, rid15_to_18
from indexer.synth.entities import make_hkid, make_rid, make_uscc

RESIDENT_IDS = [
    ("11010519491231002X", True, "1949-12-31", "female"),  # GB 11643 sample
    ("11010519491231002x", True, "1949-12-31", "female"),  # lower-case x
    ("110105 19491231 002X", True, "1949-12-31", "female"),
    ("110105-19491231-002X", True, "1949-12-31", "female"),
    ("110105194912310021", False, "1949-12-31", "female"),  # wrong check digit: kept, unverified
    ("440301198001011234", False, "1980-01-01", "male"),
]


@pytest.mark.parametrize(("raw", "verified", "born", "gender"), RESIDENT_IDS)
def test_resident_id(raw: str, verified: bool, born: str, gender: str) -> None:
    ident = parse_identifier(raw)
    assert ident is not None
    assert ident.kind == "cn_rid"
    assert ident.verified is verified
    assert ident.birth_date == born
    assert ident.gender == gender


def test_legacy_15_digit_id() -> None:
    assert rid15_to_18("110105491231002") == "11010519491231002X"
    ident = parse_identifier("110105491231002")
    assert ident is not None and ident.value == "11010519491231002X" and ident.verified


USCC = [
    ("914403001922038216", True),
    ("91440300708461136T", True),
    ("911100001000079554", True),
    ("91440300708461136t", True),
    ("9144 0300 7084 6113 6T", True),
    ("91440300708461136A", False),
    ("914403001922038217", False),
]


@pytest.mark.parametrize(("raw", "verified"), USCC)
def test_uscc(raw: str, verified: bool) -> None:
    ident = parse_identifier(raw, "company")
    assert ident is not None
    assert ident.kind == "uscc"
    assert ident.verified is verified


HKID = [
    ("A123456(3)", True),
    ("A1234563", True),
    ("a123456(3)", True),
    ("G123456(A)", True),
    ("AB987654(3)", True),
    ("A123456(4)", False),
    ("G123456(1)", False),
]


@pytest.mark.parametrize(("raw", "verified"), HKID)
def test_hkid(raw: str, verified: bool) -> None:
    ident = parse_identifier(raw)
    assert ident is not None
    assert ident.kind == "hkid"
    assert ident.verified is verified


PHONES = [
    ("+86 138 0013 8000", "+8613800138000", True),
    ("13800138000", "+8613800138000", True),
    ("0086-138-0013-8000", "+8613800138000", True),
    ("+852 9123 4567", "+85291234567", True),
    ("+853 6612 3456", "+85366123456", True),
    ("9123 4567", "+85291234567", True),
    ("+852 912 3456", "+8529123456", False),
]


@pytest.mark.parametrize(("raw", "value", "verified"), PHONES)
def test_phone(raw: str, value: str, verified: bool) -> None:
    ident = parse_phone(raw)
    assert ident is not None
    assert ident.value == value
    assert ident.verified is verified


def test_unknown_identifier_is_kept() -> None:
    ident = parse_identifier("MO-1/234567/8")
    assert ident is not None and ident.kind == "other" and ident.value == "MO12345678"
    assert parse_identifier("  --  ") is None


@pytest.mark.parametrize("seed", range(40))
def test_generated_identifiers_verify(seed: int) -> None:
    rng = random.Random(seed)
    rid = make_rid(rng, "440106", "1980-05-02", "male" if seed % 2 else "female")
    ident = parse_identifier(rid)
    assert ident is not None and ident.verified and ident.birth_date == "1980-05-02"
    assert ident.gender == ("male" if seed % 2 else "female")
    uscc = parse_identifier(make_uscc(rng, "440106"), "company")
    assert uscc is not None and uscc.kind == "uscc" and uscc.verified
    hkid = parse_identifier(make_hkid(rng))
    assert hkid is not None and hkid.kind == "hkid" and hkid.verified
    corrupted = rid[:-1] + ("0" if rid[-1] != "0" else "1")
    bad = parse_identifier(corrupted)
    assert bad is not None and not bad.verified
