"""Tests of the shared text statistics: character classes, Swallow definitions, cache."""

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
    swallow_letter_counts,
    swallow_ngram_fractions,
    swallow_paragraphs,
    swallow_sentences,
    text_stats,
)


def naive_ngram_fractions(s: str) -> dict[str, float]:
    """Straightforward Counter implementation of the Swallow reference definitions."""
    out = {}
    for n in TOP_NGRAM_NS + DUP_NGRAM_NS:
        grams = Counter(s[i : i + n] for i in range(len(s) - n + 1))
        if n in TOP_NGRAM_NS:
            out[f"top_{n}gram"] = max(grams.values()) / sum(grams.values()) if grams else 0.0
        else:
            out[f"dup_{n}gram"] = sum(1 for f in grams.values() if f > 1) / len(grams) if grams else 0.0
    return out


@pytest.mark.parametrize("seed", range(5))
def test_ngram_fractions_match_naive_definition(seed: int) -> None:
    rng = random.Random(seed)
    # "\x00" and astral characters take the dense-rank path; "\n" and " " count.
    alphabets = ["ab", "abc", "あいうえお", "ab😀", "猫犬鳥魚\n", "ab\x00 ", "abcdefghijk"]
    for _ in range(60):
        alphabet = rng.choice(alphabets)
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        assert swallow_ngram_fractions(code_points(s)) == pytest.approx(naive_ngram_fractions(s)), s


def test_ngram_fractions_many_distinct_chars() -> None:
    s = "".join(chr(0x4E00 + i) for i in range(3000)) * 2
    got = swallow_ngram_fractions(code_points(s))
    # 2991 distinct 10-grams occur twice, the 9 across the seam once.
    assert got["dup_10gram"] == pytest.approx(2991 / 3000)
    assert got == pytest.approx(naive_ngram_fractions(s))
    assert got["top_2gram"] == pytest.approx(2 / (len(s) - 1))
    unique = "".join(chr(0x4E00 + i) for i in range(3000))
    assert swallow_ngram_fractions(code_points(unique))["dup_5gram"] == 0.0
    # Astral code points: dense ranks, same answer as the naive definition.
    astral = "".join(chr(0x20000 + (i * 7) % 50) for i in range(300))
    assert swallow_ngram_fractions(code_points(astral)) == pytest.approx(naive_ngram_fractions(astral))


@pytest.mark.parametrize("distinct, fast", [(0xFFFF, True), (0x10000, False)])
def test_ngram_fractions_at_the_16_bit_rank_limit(distinct: int, fast: bool, monkeypatch) -> None:
    # 65,535 distinct astral code points still fit 16-bit ranks 1..65535 (the fast
    # path); one more takes the Counter fallback. Both give the definition's answer.
    import filters.textstats as ts

    fallback = ts._ngram_fractions_counter
    used = []
    monkeypatch.setattr(ts, "_ngram_fractions_counter", lambda cps: used.append(1) or fallback(cps))
    s = "".join(chr(0x20000 + i) for i in range(distinct)) + "".join(chr(0x20000 + i) for i in range(500))
    assert swallow_ngram_fractions(code_points(s)) == pytest.approx(naive_ngram_fractions(s))
    assert used == ([] if fast else [1])


def test_ngram_fractions_real_japanese_and_short_texts() -> None:
    s = "私は猫が好きです。\n私は犬も好きです。"
    assert swallow_ngram_fractions(code_points(s)) == pytest.approx(naive_ngram_fractions(s))
    for short in ["", "a", "ab", "abcd"]:
        assert swallow_ngram_fractions(code_points(short)) == pytest.approx(naive_ngram_fractions(short))


def test_swallow_letter_counts() -> None:
    text = "ひらがなゝカタカナー・漢字々〇〻𠮷、，。．!?！？.,ABC"
    assert swallow_letter_counts(code_points(text)) == {
        "hiragana": 4,  # ゝ is not in U+3041..U+3096
        "katakana": 4,  # ー and ・ are not in U+30A1..U+30FA
        "kanji": 6,  # 漢字々〇〻𠮷
        "kuten": 6,  # 。．！？ and ASCII !?; not ASCII "."
        "toten": 2,  # 、，; not ASCII ","
    }
    assert swallow_letter_counts(code_points("")) == dict.fromkeys(["hiragana", "katakana", "kanji", "kuten", "toten"], 0)


def test_swallow_sentences_and_paragraphs() -> None:
    text = "価格は3.5万円です。example.comを見た!!次の文.最後...\n\n!!見出し\n 空白。 次"
    assert swallow_sentences(text) == [
        "価格は3.5万円です。",
        "example.comを見た!",
        "次の文.最後...",
        "見出し",
        " 空白。",
        " 次",
    ]
    assert swallow_paragraphs(text) == [
        "価格は3.5万円です。example.comを見た!次の文.最後...",
        "",
        "見出し",
        " 空白。 次",
    ]


def test_paragraphs_are_each_lines_sentences_joined() -> None:
    # The definition swallow_paragraphs implements with one substitution over the
    # whole text, checked line by line on random terminator-heavy strings.
    import random

    rng = random.Random(5)
    pieces = list("。．！？!?\nあa. ") + ["文です", "\n\n", "!!", "。。"]
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 25)))
        assert swallow_paragraphs(text) == ["".join(swallow_sentences(line)) for line in text.split("\n")], repr(text)


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
