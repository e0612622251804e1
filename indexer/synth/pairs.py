"""Labeled benchmark pairs: (query, record, same entity?) in named variant categories.

Each category is one way partner offices write the same suspect differently (positives) or one way
two different suspects look alike (hard negatives). A query carries only what the category is about
(name-variant queries carry no birth date or ID, so the name alone must carry them); records carry
what an office typically holds. Deterministic for a seed.
"""

from __future__ import annotations

import random

from indexer.synth.entities import Generator
from indexer.synth.pair import Pair, PairFn
from indexer.synth.pairs_companies import (
    company_english_cantonese,
    company_english_other_trade,
    company_english_pinyin,
    company_english_trade_word,
    company_legal_form_swap,
    company_no_region,
    company_other_city,
    company_other_industry,
    company_region_bracket,
    company_renamed_same_uscc,
    company_traditional,
    company_uscc_conflict,
)
from indexer.synth.pairs_guesses import (
    pinyin_wg_collision,
    rare_reading_other_name,
    stacked_fuzzy_other_person,
    taiwan_passport,
    titled_name,
)
from indexer.synth.pairs_people import (
    compound_surname,
    fuzzy_pinyin_romanized,
    hk_english_name,
    hk_romanized,
    hk_romanized_hyphen,
    homophone_typo,
    homophone_typo_dated,
    id_match_name_variant,
    latin_typo,
    lyu_spelling,
    macau_romanized,
    mixed_script_field,
    namesake_dob_conflict,
    namesake_gender_conflict,
    namesake_id_conflict,
    one_char_off,
    other_person_same_surname,
    pinyin_comma,
    pinyin_joined,
    pinyin_reversed,
    pinyin_spaced,
    pinyin_tones,
    polyphonic_surname,
    romanized_one_syllable_off,
    surname_homophone,
    surname_variant_char,
    trad_simplified,
    wade_giles,
    wade_giles_stripped,
    wade_giles_typo,
)  # fmt: skip

__all__ = ["CATEGORIES", "Pair", "generate_pairs"]

CATEGORIES: dict[str, PairFn] = {
    f.__name__: f
    for f in (
        trad_simplified, hk_romanized, hk_romanized_hyphen, hk_english_name, macau_romanized,
        pinyin_spaced, pinyin_joined, pinyin_reversed, pinyin_comma, pinyin_tones, wade_giles,
        wade_giles_stripped, homophone_typo, polyphonic_surname, compound_surname, lyu_spelling,
        surname_variant_char, fuzzy_pinyin_romanized, latin_typo, id_match_name_variant,
        mixed_script_field, company_traditional, company_region_bracket, company_no_region,
        company_english_pinyin, company_english_cantonese, company_legal_form_swap,
        company_renamed_same_uscc,
        namesake_dob_conflict, namesake_id_conflict, namesake_gender_conflict, one_char_off,
        surname_homophone, romanized_one_syllable_off, other_person_same_surname,
        company_other_industry, company_other_city, company_uscc_conflict,
        taiwan_passport, titled_name,
        stacked_fuzzy_other_person, rare_reading_other_name, pinyin_wg_collision,
        company_english_trade_word, company_english_other_trade,
        wade_giles_typo, homophone_typo_dated,  # last: the categories before them keep their pairs
    )
}  # fmt: skip


def generate_pairs(seed: int, per_category: int) -> list[Pair]:
    """``per_category`` labeled pairs for every category, deterministic for ``seed``."""
    g = Generator(seed)
    r = random.Random(seed + 1)
    out: list[Pair] = []
    for fn in CATEGORIES.values():
        made = 0
        attempts = 0
        while made < per_category and attempts < per_category * 20:
            attempts += 1
            pair = fn(g, r)
            if pair is not None:
                out.append(pair)
                made += 1
    return out
