"""Tests of the Swallow corpus v1 rules: one case per reason, keeps, boundaries."""

from __future__ import annotations

import pickle
import random

import pytest

from filters.base import build_filter
from filters.swallow import (
    SwallowCharRatioFilter,
    SwallowDuplicateFilter,
    SwallowLengthFilter,
    SwallowNgramFilter,
    SwallowSentenceFilter,
)
from schemas.records import Doc

HIRAGANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"
KANJI = "日本語文章会社時間自然言語処理研究開発東京大阪世界経済政治天気散歩料理音楽映画写真"


def doc(text: str) -> Doc:
    return Doc(id="t", url="", source="", crawl_date="", text=text)


def prose(n_sentences: int, seed: int = 0, sentence_chars: int = 30) -> str:
    """Random but Japanese-looking prose without repeated n-grams (3 sentences a line)."""
    rng = random.Random(seed)
    sentences = []
    for _ in range(n_sentences):
        body = "".join(rng.choice(HIRAGANA if rng.random() < 0.6 else KANJI) for _ in range(sentence_chars - 1))
        sentences.append(body + "。")
    return "\n".join("".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3))


GOOD = prose(20)  # 600 Japanese-ish characters, 30-character sentences


@pytest.mark.parametrize(
    "cls",
    [SwallowLengthFilter, SwallowCharRatioFilter, SwallowSentenceFilter, SwallowDuplicateFilter, SwallowNgramFilter],
)
def test_good_prose_is_kept_and_scores_are_deterministic(cls) -> None:
    f = cls()
    scores = f.score(doc(GOOD))
    assert f.decide(scores) is None, scores
    # Same result on an equal but distinct string (no cache hit) and after pickling.
    assert f.score(doc("".join(list(GOOD)))) == scores
    assert pickle.loads(pickle.dumps(f)).score(doc(GOOD)) == scores
    assert set(f.reasons) and all(isinstance(r, str) for r in f.reasons)


def test_length_reasons_and_boundaries() -> None:
    f = SwallowLengthFilter()
    assert f.decide(f.score(doc("あ" * 399))) == "too_short"
    assert f.decide(f.score(doc("あ" * 400))) is None
    assert f.decide(f.score(doc("あ" * 399 + "a"))) == "too_few_japanese_chars"
    assert f.decide({"n_chars": 400, "n_japanese_chars": 400}) is None
    assert f.decide({"n_chars": 400, "n_japanese_chars": 399}) == "too_few_japanese_chars"
    assert f.decide({"n_chars": 399, "n_japanese_chars": 399}) == "too_short"


def test_char_ratio_reasons_and_boundaries() -> None:
    f = SwallowCharRatioFilter()
    # 2 hiragana of 10 Japanese characters: exactly 0.2 is kept, 1 of 10 is not.
    assert f.decide(f.score(doc("のは" + "漢" * 8))) is None
    assert f.decide(f.score(doc("の" + "漢" * 9))) == "too_few_hiragana"
    # 5 katakana of 10: kept at 0.5; 6 of 10 dropped.
    assert f.decide(f.score(doc("カタカナー" + "のはのはの"))) is None
    assert f.decide(f.score(doc("カタカナーカ" + "のはのは"))) == "too_much_katakana"
    # Japanese 10 of 20 letters kept; 10 of 21 dropped. Digits/punctuation are not letters.
    assert f.decide(f.score(doc("のはのはのはのはのは" + "abcdefghij" + "123!?"))) is None
    assert f.decide(f.score(doc("のはのはのはのはのは" + "abcdefghijk"))) == "too_few_japanese_letters"
    assert f.score(doc("123 !?")) == {"hiragana_ratio": 0.0, "katakana_ratio": 0.0, "japanese_letter_ratio": 0.0}


def test_sentence_reasons_and_boundaries() -> None:
    f = SwallowSentenceFilter()
    s20 = "あ" * 19 + "。"
    assert f.decide(f.score(doc(s20 * 3))) is None
    assert f.decide(f.score(doc(("あ" * 18 + "。") * 3))) == "avg_sentence_too_short"
    assert f.decide(f.score(doc(("あ" * 89 + "。") * 3))) is None
    assert f.decide(f.score(doc(("あ" * 90 + "。") * 3))) == "avg_sentence_too_long"
    # One 200-character sentence is allowed, 201 is not (average stays below 90).
    short = ("あ" * 29 + "。") * 10
    assert f.decide(f.score(doc(short + "い" * 199 + "。"))) is None
    assert f.decide(f.score(doc(short + "い" * 200 + "。"))) == "sentence_too_long"
    # 1 of 5 sentences ends in an ellipsis (0.2) kept; 2 of 5 dropped.
    tail = "あ" * 25
    assert f.decide(f.score(doc("\n".join([tail + "。"] * 4 + [tail + "..."])))) is None
    assert f.decide(f.score(doc("\n".join([tail + "。"] * 3 + [tail + "・・・", tail + "…"])))) == (
        "too_many_ellipsis_sentences"
    )
    assert f.score(doc(""))["n_sentences"] == 0.0


def test_duplicate_reasons_and_boundaries() -> None:
    f = SwallowDuplicateFilter()
    lines = [f"これは{i}番目の異なる行で、十分に長い文章になっています。" for i in range(10)]
    # 3 duplicate lines of 10 (0.30) kept by count, but their characters weigh
    # more than 0.20 only when they are long: use short duplicates.
    base = lines[:7] + ["短い行。"] * 3
    s = f.score(doc("\n".join(base)))
    assert s["dup_line_ratio"] == pytest.approx(0.2)  # first occurrence is not a duplicate
    assert f.decide(s) is None
    s = f.score(doc("\n".join(lines[:6] + ["短い行。"] * 4)))
    assert s["dup_line_ratio"] == pytest.approx(0.3) and f.decide(s) is None
    assert f.decide(f.score(doc("\n".join(lines[:5] + ["短い行。"] * 5)))) == "dup_lines"
    # Few but long duplicate lines: character-weighted rule.
    long_line = "同じ内容の長い段落がここで何度も繰り返されるという典型的な定型文であり、読者にとっては何の価値もない文章の例です。"
    assert f.decide(f.score(doc("\n".join(lines[:8] + [long_line] * 2)))) is None
    assert f.decide(f.score(doc("\n".join(lines[:5] + [long_line] * 3)))) == "dup_line_chars"
    # Sentences repeated inside one line: the line rule cannot see them.
    text = "".join(lines[:2]) + "はい。" * 5
    assert f.decide(f.score(doc(text))) == "dup_sentences"
    long_sentence = "この文は同じ段落の中で二回繰り返されるかなり長めの文になっています。"
    text = "".join(lines[:6]) + long_sentence * 3
    scores = f.score(doc(text))
    assert scores["dup_sentence_ratio"] <= 0.3 and f.decide(scores) == "dup_sentence_chars"
    assert f.decide({"dup_line_ratio": 0.3, "dup_line_char_ratio": 0.2, "dup_sentence_ratio": 0.3,
                     "dup_sentence_char_ratio": 0.2}) is None
    assert f.decide({"dup_line_ratio": 0.0, "dup_line_char_ratio": 0.0, "dup_sentence_ratio": 0.0,
                     "dup_sentence_char_ratio": 0.2001}) == "dup_sentence_chars"


def test_ngram_reason_per_rule() -> None:
    f = SwallowNgramFilter()
    # Top 2-gram: "ワン" spam.
    assert f.decide(f.score(doc(prose(3) + "ワン" * 80))) == "top_2gram"
    zeros = {r: 0.0 for r in f.reasons}
    for reason in f.reasons:
        kind, gram = reason.split("_")
        limit = getattr(f, f"max_{kind}_{gram}_ratio")
        assert f.decide({**zeros, reason: limit}) is None
        assert f.decide({**zeros, reason: limit + 1e-9}) == reason


def test_ngram_dup_rule_on_text() -> None:
    f = SwallowNgramFilter()
    unique = prose(20, seed=1)
    # A 34-character block twice in 668 characters covers 68/668 = 10.2%: above
    # the 10-gram limit (0.10) only; the shorter n-gram limits are looser.
    block = prose(1, seed=2, sentence_chars=34)
    scores = f.score(doc(unique + "\n" + block + "\n" + block))
    assert 0.10 < scores["dup_10gram"] < 0.105  # 68/668 plus a chance repeat or two
    assert scores["dup_9gram"] <= 0.11 and scores["dup_5gram"] <= 0.15
    assert f.decide(scores) == "dup_10gram"
    scores = f.score(doc(unique + ("\n" + block) * 4))
    assert scores["dup_5gram"] > 0.15 and f.decide(scores) == "dup_5gram"


def test_build_from_config() -> None:
    f = build_filter("swallow_sentence", {"max_sentence_chars": 100})
    assert isinstance(f, SwallowSentenceFilter) and f.max_sentence_chars == 100
