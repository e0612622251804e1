"""How the SQLite backend writes keys and documents compactly (issue #17: 1.65 GB per million
records, of which 1.2 GB were key strings held twice, in the table and its covering index).

- A key is stored as a 48-bit hash of its string (6 bytes in SQLite's integer encoding), in a
  ``WITHOUT ROWID`` table whose primary key *is* the lookup index. Two keys of one store share a
  hash with probability about n² / 2⁴⁹ (≈ 0.3 for 8.5 M distinct keys, bench/realistic.py): a
  collision can only add a candidate, which the scorer then judges on the record itself.
- A record keeps its own postings (hash and weight, 7 bytes a key), so a change or withdrawal
  deletes exactly the postings it wrote, without a second index on record id.
- A document is its JSON compressed with zlib against a preset dictionary of the document's
  field names and common values (the format of every record): 352 → 149 bytes on the realistic
  benchmark's records, 14 µs to compress and 1 µs to read back.

Changing anything here changes the file format: bump ``SCHEMA_VERSION`` in ``sqlite.py``.
Both are computed in ``storage.base.prepare``, in a load's worker processes.
"""

from __future__ import annotations

import struct
import zlib
from hashlib import blake2b

HASH_BYTES = 6

# The preset dictionary: what every document repeats. Field names in Record.to_dict's order, as
# json.dumps(sort_keys=True) writes them, with the commonest values.
_DICTIONARY = (
    '{"address": null, "aliases": [], "attributes": {}, "birth_date": null, "case_date": null, "case_id": null, '
    '"entity_type": "company", "gender": "female", "id_number": null, "name": null, "offence": null, '
    '"office": "CN-HK", "phone": null, "record_id": null}'
    '{"address": null, "aliases": [], "attributes": {}, "birth_date": "19", "case_date": "20", "case_id": "", '
    '"entity_type": "person", "gender": "male", "id_number": "", "name": "", "offence": "", "office": "CN-GD", '
    '"phone": "+86 1", "record_id": ""}'
    "Company Limited有限责任公司有限公司股份贸易科技实业商行省市区县"
).encode()
_WBITS = -15  # raw deflate: no header or checksum (the row is the unit; SQLite checks pages)


def key_hash(key: str) -> int:
    """A key's 48-bit hash (stable across processes and versions, unlike ``hash``)."""
    return int.from_bytes(blake2b(key.encode(), digest_size=HASH_BYTES).digest(), "big")


def pack_postings(keys: dict[str, float]) -> bytes:
    """A record's keys as postings: per key its hash (6 bytes) and weight (1 byte; weights are
    whole numbers below 256). A collision within one record, astronomically rare, is kept once."""
    parts: list[bytes] = []
    seen: set[bytes] = set()
    for key, w in keys.items():
        digest = blake2b(key.encode(), digest_size=HASH_BYTES).digest()
        if digest not in seen:
            seen.add(digest)
            parts.append(digest + _WEIGHT_BYTE[round(w)])
    return b"".join(parts)


_WEIGHT_BYTE = [bytes((w,)) for w in range(256)]


def unpack_postings(blob: bytes) -> list[tuple[int, int]]:
    """(hash, weight) pairs of :func:`pack_postings`."""
    # struct reads the 7-byte groups in C: a third of the time of slicing each in Python (the
    # watch screening unpacks every written record's postings).
    return [(hi << 16 | lo, w) for hi, lo, w in _POSTING.iter_unpack(blob)]


def posting_hashes(blob: bytes) -> list[int]:
    """The hashes of :func:`pack_postings`, without their weights."""
    return [hi << 16 | lo for hi, lo, _ in _POSTING.iter_unpack(blob)]


_POSTING = struct.Struct(">IHB")  # a 48-bit hash as 32 + 16 bits, then the weight


def compress(body: str) -> bytes:
    c = zlib.compressobj(1, zlib.DEFLATED, _WBITS, 9, zlib.Z_DEFAULT_STRATEGY, _DICTIONARY)
    return c.compress(body.encode("utf-8")) + c.flush()


def decompress(blob: bytes) -> str:
    d = zlib.decompressobj(_WBITS, _DICTIONARY)
    return (d.decompress(blob) + d.flush()).decode("utf-8")
