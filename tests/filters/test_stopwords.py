"""Tests of the FineWeb-2 stop-word rule."""

from __future__ import annotations

from filters.base import build_filter
from filters.stopwords import FINEWEB2_JA_STOPWORDS, StopwordFilter
from schemas.records import Doc


def doc(text: str) -> Doc:
    return Doc(id="t", url="", source="", crawl_date="", text=text)


def test_boundary_and_reason() -> None:
    f = StopwordFilter()
    assert f.score(doc("東京都新宿区")) == {"stopwords": 0.0}
    assert f.decide(f.score(doc("東京都新宿区"))) == "too_few_stopwords"
    assert f.decide(f.score(doc("東京の新宿区"))) == "too_few_stopwords"  # 1 < 2
    assert f.decide(f.score(doc("東京の新宿区で"))) is None  # 2 kept (inclusive)


def test_counts_distinct_stopwords_present_as_substrings() -> None:
    f = StopwordFilter()
    text = "2012年3月、猫が庭で遊んでいたと聞きました。"
    # 年 月 が で た と し: で and た occur twice but count once, as in FineWeb-2
    # (datatrove: len(stop_words & set(words))).
    assert f.score(doc(text)) == {"stopwords": 7.0}
    assert set(FINEWEB2_JA_STOPWORDS) & set(text) == {"年", "月", "が", "で", "た", "と", "し"}


def test_one_stopword_repeated_is_not_enough() -> None:
    # Keyword lists joined with ・ (one stop word, three times) are what the rule drops.
    f = StopwordFilter()
    assert f.score(doc("東京・大阪・名古屋・福岡")) == {"stopwords": 1.0}
    assert f.decide(f.score(doc("東京・大阪・名古屋・福岡"))) == "too_few_stopwords"
    assert f.decide(f.score(doc("ののの"))) == "too_few_stopwords"
    assert f.decide(f.score(doc("東京・大阪の店"))) is None


def test_custom_list_from_config_is_a_tuple() -> None:
    f = build_filter("stopwords", {"stopwords": ["です", "ます"], "min_stopwords": 1})
    assert f.stopwords == ("です", "ます")
    assert f.decide(f.score(doc("そうです"))) is None
    assert f.decide(f.score(doc("そうだ"))) == "too_few_stopwords"
