"""The per-character Jyutping table (indexer/data/jyutping_chars.tsv) is exactly what ToJyutping
says for every character it knows: the table is derived from it, and this test derives it again.

Why a table: the indexer reads one character at a time, and importing ToJyutping builds its whole
phrase trie first: 1.1 s of CPU in every process that reads a Chinese name (the load command and
each of its workers, the server), against 0.03 s to read this table (py-spy of a watched
18,158-row office load: 179 of 2,010 samples in that import).

Regenerate after upgrading ToJyutping: ``python -m tests.test_jyutping_table``.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from indexer.names.cantonese import READINGS_KEPT, jyutping_readings

TABLE = Path(__file__).resolve().parent.parent / "indexer" / "data" / "jyutping_chars.tsv"
# Every block where ToJyutping 3.2 reads a single character (a scan of all code points found
# readings only in these: CJK symbols, ideographs and their extensions, compatibility ideographs).
BLOCKS = ((0x3000, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF))


def derive() -> dict[str, tuple[str, ...]]:
    """Character → its first Jyutping candidates, as ToJyutping gives them."""
    # Imported here, not at the top: only the derivation needs it (the point of the table).
    import ToJyutping

    out: dict[str, tuple[str, ...]] = {}
    for start, end in BLOCKS:
        for cp in range(start, end + 1):
            found = ToJyutping.get_jyutping_candidates(chr(cp))
            if len(found) == 1 and found[0][1]:
                out[chr(cp)] = tuple(found[0][1][:READINGS_KEPT])
    return out


def write(path: Path) -> int:
    table = derive()
    version = metadata.version("ToJyutping")
    lines = [
        f"# Jyutping readings per character: the first {READINGS_KEPT} candidates of ToJyutping {version}",
        "# (BSD-2-Clause, see LICENSES/ToJyutping-BSD-2-Clause.txt), derived by tests/test_jyutping_table.py; readings separated by commas",
        *(f"{ch}\t{','.join(readings)}" for ch, readings in table.items()),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(table)


def test_table_is_what_tojyutping_says() -> None:
    table = jyutping_readings()
    derived = derive()
    assert len(table) > 30_000
    assert table == derived


def test_table_names_the_version_it_came_from() -> None:
    head = TABLE.read_text(encoding="utf-8").splitlines()[0]
    assert f"ToJyutping {metadata.version('ToJyutping')}" in head


def test_readings_of_name_characters() -> None:
    # Traditional characters, as the indexer reads them (see cantonese.char_keys).
    assert jyutping_readings()["張"] == ("zoeng1", "zoeng3")
    assert jyutping_readings()["陳"][0] == "can4"


if __name__ == "__main__":
    print(f"{write(TABLE):,} characters written to {TABLE}")
