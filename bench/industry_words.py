"""Coverage of the English industry vocabulary on a real list of company names.

    python bench/industry_words.py [--pprd-only] [--top 25]

The list is the IEEE Registration Authority's public listing of organizations (29,719 names,
6,193 at a CN, HK, MO or TW address; indexer/data/ieee_registry_organizations.csv). Each name goes
through the real parser (`company_forms`), and the bench prints:

- vocabulary words taken from the list (a word counts only if some organization's name holds it);
- word coverage: of the English words in the names that are neither a legal form, a qualifier, a
  place nor readable as pinyin, Wade-Giles or Cantonese syllables, the share that are industry words
  (what is left is brand words such as Star, Golden, Eagle, and foreign-language words);
- name coverage: the share of names in which the parser finds an industry;
- the most frequent words left out, so a reader can judge them.

The words were chosen by looking at this same list, so the coverage is in-sample. Run it on an
older tree (PYTHONPATH=<checkout>) for the figure before a vocabulary change.
"""

from __future__ import annotations

import argparse
import collections
import csv
import re
from importlib import resources

from indexer.names import company_terms, regions, romanized
from indexer.names.companies import company_forms

PPRD = frozenset({"CN", "HK", "MO", "TW"})
_WORD = re.compile(r"[a-z0-9]+")


def organizations(pprd_only: bool) -> list[str]:
    text = resources.files("indexer.data").joinpath("ieee_registry_organizations.csv").read_text("utf-8")
    rows = csv.DictReader(text.splitlines())
    return [r["organization"] for r in rows if not pprd_only or r["country"] in PPRD]


def descriptive(word: str) -> bool:
    """An English word that could name a trade: not a legal form, qualifier, place or syllables."""
    if len(word) < 3 or word in company_terms.LEGAL_TOKENS_LATIN or word in company_terms.MODIFIERS_LATIN:
        return False
    if regions.latin_regions(word):
        return False
    return not any(romanized.segment(word, system) for system in ("py", "wg", "ct"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pprd-only", action="store_true", help="only names at a CN, HK, MO or TW address")
    parser.add_argument("--top", type=int, default=25, help="how many uncovered words to list")
    args = parser.parse_args()
    names = organizations(args.pprd_only)
    vocabulary = set(company_terms.INDUSTRY_LATIN)
    in_list: set[str] = set()
    covered = total = with_industry = 0
    missed: collections.Counter[str] = collections.Counter()
    for name in names:
        words = _WORD.findall(name.lower())
        in_list.update(w for w in words if w in vocabulary)
        for word in words:
            if descriptive(word):
                total += 1
                if word in vocabulary:
                    covered += 1
                else:
                    missed[word] += 1
        forms = company_forms(name)
        if forms and forms[0].industries:
            with_industry += 1
    print(f"names: {len(names):,} ({'CN/HK/MO/TW addresses' if args.pprd_only else 'all addresses'})")
    print(f"vocabulary: {len(vocabulary)} English words, {len(in_list)} of them in these names")
    print(f"word coverage: {covered:,} of {total:,} descriptive word occurrences = {covered / max(total, 1):.3f}")
    print(f"name coverage: industry found in {with_industry:,} of {len(names):,} = {with_industry / len(names):.3f}")
    print("most frequent words left out: " + ", ".join(f"{w} {n}" for w, n in missed.most_common(args.top)))


if __name__ == "__main__":
    main()
