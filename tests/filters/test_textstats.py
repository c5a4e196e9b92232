"""Tests of the shared text statistics: character classes, n-gram repetition, cache."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from filters.textstats import (
    DUP_NGRAM_NS,
    TOP_NGRAM_NS,
    TextStats,
    code_points,
    duplicate_fractions,
    ngram_repetition,
    text_stats,
)


def naive_ngram_repetition(s: str) -> dict[str, float]:
    """Straightforward reference implementation of the Gopher definitions."""
    out = {}
    for n in TOP_NGRAM_NS:
        grams = Counter(s[i : i + n] for i in range(len(s) - n + 1))
        out[f"top_{n}gram"] = max(grams.values()) * n / len(s) if grams else 0.0
    for n in DUP_NGRAM_NS:
        grams = Counter(s[i : i + n] for i in range(len(s) - n + 1))
        covered = [False] * len(s)
        for i in range(len(s) - n + 1):
            if grams[s[i : i + n]] > 1:
                covered[i : i + n] = [True] * n
        out[f"dup_{n}gram"] = sum(covered) / len(s) if s else 0.0
    return out


@pytest.mark.parametrize("seed", range(5))
def test_ngram_repetition_matches_naive_reference(seed: int) -> None:
    rng = random.Random(seed)
    alphabets = ["ab", "abc", "あいうえお", "ab😀", "猫犬鳥魚"]
    for _ in range(60):
        alphabet = rng.choice(alphabets)
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        assert ngram_repetition(code_points(s)) == pytest.approx(naive_ngram_repetition(s)), s


def test_ngram_repetition_many_distinct_chars_uses_several_sort_rounds() -> None:
    # > 1023 distinct code points: 11+ bits per character, so more rounds of keys.
    s = "".join(chr(0x4E00 + i) for i in range(3000)) * 2
    got = ngram_repetition(code_points(s))
    assert got["dup_10gram"] == 1.0
    assert got["top_2gram"] == pytest.approx(2 * 2 / len(s))
    unique = "".join(chr(0x4E00 + i) for i in range(3000))
    assert ngram_repetition(code_points(unique))["dup_5gram"] == 0.0


def test_ngram_repetition_real_japanese_sentence() -> None:
    s = "私は猫が好きです。私は犬も好きです。"
    assert ngram_repetition(code_points(s)) == pytest.approx(naive_ngram_repetition(s))


def test_char_classes() -> None:
    st = TextStats("ひらがなカタカナー漢字々〇・ABCａ1!■😀\n𠮷")
    assert st.n_hiragana == 4
    assert st.n_katakana == 5  # カタカナ + ー; ・ is punctuation
    assert st.n_kanji == 5  # 漢字々〇𠮷 (𠮷 is astral, Extension B)
    assert st.n_japanese == 14
    # letters: Japanese + A B C ａ
    assert st.n_letters == 18
    assert st.n_special == 2  # ■ and the emoji
    assert st.n_space == 1


def test_sentences_split_rules() -> None:
    st = TextStats("価格は3.5万円です。example.comを見た!!次の文.最後...\n見出し")
    assert st.sentences == ["価格は3.5万円です。", "example.comを見た!!", "次の文.", "最後...", "見出し"]


def test_lines_and_max_run() -> None:
    st = TextStats("あ\n\n  いいい  \nう")
    assert st.lines == ["あ", "いいい", "う"]
    assert st.max_run == 3
    assert TextStats("").max_run == 0


def test_duplicate_fractions() -> None:
    assert duplicate_fractions(["aa", "b", "aa"]) == (pytest.approx(1 / 3), pytest.approx(2 / 5))
    assert duplicate_fractions(["a", "b"]) == (0.0, 0.0)


def test_cache_returns_same_object_and_is_exact() -> None:
    a = "".join(["ねこ", "です"])
    b = "".join(["ねこ", "です"])
    assert a == b and a is not b
    assert text_stats(a) is text_stats(a)
    assert text_stats(a) is not text_stats(b)
    assert text_stats(b).text is b


def test_cache_survives_many_documents() -> None:
    texts = [f"文書{i}です。" for i in range(200)]
    stats = [text_stats(t) for t in texts]
    assert all(s.text is t for s, t in zip(stats, texts))
    assert text_stats(texts[-1]) is stats[-1]
