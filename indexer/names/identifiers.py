"""Identifiers: PRC resident ID, Unified Social Credit Code, HKID, phone numbers.

Each raw value is cleaned of formatting noise (spaces, dashes, brackets, lower-case x), classified,
and its check character verified. An identifier whose check fails is *kept*, flagged
``verified=False``, and still matched exactly: a typo in an office's record must not make a suspect
invisible, but the scorer gives an unverified identifier less weight.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

# GB 11643-1999 / ISO 7064 MOD 11-2 weights for the 17 body digits of a resident ID.
_RID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RID_CHECK = "10X98765432"

# GB 32100-2015: alphabet without I, O, Z, S, V; weights 3^i mod 31.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_NOISE = re.compile(r"[\s\-–—_./()（）\[\]:：]+")
_HKID_RE = re.compile(r"^([A-Z]{1,2})([0-9]{6})([0-9A])$")
_RID18_RE = re.compile(r"^[0-9]{17}[0-9X]$")
_RID15_RE = re.compile(r"^[0-9]{15}$")
_USCC_RE = re.compile(r"^[0-9A-HJ-NP-RT-UW-Y]{18}$")


@dataclass(frozen=True, slots=True)
class Identifier:
    """A cleaned identifier: kind ('cn_rid', 'uscc', 'hkid', 'phone', 'other'), value, check result,
    and for resident IDs the birth date and gender the number encodes."""

    kind: str
    value: str
    verified: bool
    birth_date: str | None = None
    gender: str | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"


def clean(raw: str) -> str:
    """Upper-case and strip spaces, dashes, dots and brackets: '4403 0119 8001 01 123x' → '...123X'."""

    return _NOISE.sub("", unicodedata.normalize("NFKC", raw)).upper()


def rid_check(body17: str) -> str:
    """The check character of a resident ID body (17 digits)."""
    total = sum(int(d) * w for d, w in zip(body17, _RID_WEIGHTS, strict=True))
    return _RID_CHECK[total % 11]


def uscc_check(body17: str) -> str | None:
    """The check character of a USCC body (17 characters), or None if a character is not allowed."""
    total = 0
    for ch, w in zip(body17, _USCC_WEIGHTS, strict=True):
        pos = _USCC_ALPHABET.find(ch)
        if pos < 0:
            return None
        total += pos * w
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def hkid_check(letters: str, digits: str) -> str:
    """The HKID check digit: letters A=10..Z=35, a single letter padded with a space (=36),
    weights 9..2 over the eight positions, check = (11 - sum mod 11) mod 11, 10 written 'A'."""
    padded = letters if len(letters) == 2 else " " + letters
    values = [36 if c == " " else ord(c) - 55 for c in padded] + [int(d) for d in digits]
    total = sum(v * w for v, w in zip(values, range(9, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return "A" if check == 10 else str(check)


def rid_birth(rid18: str) -> tuple[str | None, str]:
    """The birth date (None if impossible) and gender an 18-digit resident ID encodes."""
    y, m, d = int(rid18[6:10]), int(rid18[10:12]), int(rid18[12:14])
    try:
        born: str | None = date(y, m, d).isoformat()
    except ValueError:
        born = None
    gender = "male" if int(rid18[16]) % 2 == 1 else "female"
    return born, gender


def rid15_to_18(rid15: str) -> str:
    """Legacy 15-digit resident ID → 18 digits: insert the century '19', append the check."""
    body = rid15[:6] + "19" + rid15[6:]
    return body + rid_check(body)


def parse_identifier(raw: str, entity_type: str = "person") -> Identifier | None:
    """Classify and verify one raw identifier; None if nothing is left after cleaning."""
    value = clean(raw)
    if not value:
        return None
    if _RID15_RE.match(value) and entity_type != "company":
        value = rid15_to_18(value)
        born, gender = rid_birth(value)
        return Identifier("cn_rid", value, born is not None, born, gender)
    if len(value) == 18:
        rid_ok = bool(_RID18_RE.match(value)) and rid_check(value[:17]) == value[17]
        uscc_ok = bool(_USCC_RE.match(value)) and uscc_check(value[:17]) == value[17]
        if rid_ok and (entity_type != "company" or not uscc_ok):
            born, gender = rid_birth(value)
            return Identifier("cn_rid", value, born is not None, born, gender)
        if entity_type != "company" and _RID18_RE.match(value):
            # A person's mistyped resident ID is still a resident ID, even if it happens to pass
            # the USCC check (1 in 31 all-digit strings do).
            born, gender = rid_birth(value)
            return Identifier("cn_rid", value, False, born, gender)
        if uscc_ok:
            return Identifier("uscc", value, True)
        if entity_type == "company" and _USCC_RE.match(value):
            return Identifier("uscc", value, False)
        if _RID18_RE.match(value):
            born, gender = rid_birth(value)
            return Identifier("cn_rid", value, False, born, gender)
    m = _HKID_RE.match(value)
    if m:
        return Identifier("hkid", value, hkid_check(m.group(1), m.group(2)) == m.group(3))
    phone = parse_phone(raw)
    if phone is not None:
        return phone
    return Identifier("other", value, False)


_PHONE_DIGITS = re.compile(r"[^\d+]")


def parse_phone(raw: str) -> Identifier | None:
    """Mainland (+86, 11-digit mobiles starting 1), Hong Kong (+852) and Macau (+853, 8 digits)
    numbers in E.164 form; None if the value is not recognisably one of them."""
    digits = _PHONE_DIGITS.sub("", raw)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("+"):
        body = digits[1:]
        for cc, length in (("86", 11), ("852", 8), ("853", 8)):
            if body.startswith(cc) and len(body) - len(cc) in (length, length - 1, length + 1):
                national = body[len(cc) :]
                ok = len(national) == length and (cc != "86" or national.startswith("1"))
                return Identifier("phone", "+" + cc + national, ok)
        return None
    if len(digits) == 11 and digits.startswith("1"):
        return Identifier("phone", "+86" + digits, True)
    if len(digits) == 8 and digits[0] in "2345679":
        return Identifier("phone", "+852" + digits, True)
    return None
