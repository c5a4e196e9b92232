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


def test_counts_character_occurrences_of_the_fineweb2_list() -> None:
    f = StopwordFilter()
    text = "2012年3月、猫が庭で遊んでいたと聞きました。"
    expected = sum(text.count(w) for w in FINEWEB2_JA_STOPWORDS)
    assert expected == 9  # 年 月 が で×2 (庭で, 遊んで) た×2 (いた, ました) と し
    assert f.score(doc(text)) == {"stopwords": 9.0}
    assert f.score(doc(text)) == f.score(doc("".join(list(text))))


def test_custom_list_from_config_is_a_tuple() -> None:
    f = build_filter("stopwords", {"stopwords": ["です", "ます"], "min_stopwords": 1})
    assert f.stopwords == ("です", "ます")
    assert f.decide(f.score(doc("そうです"))) is None
    assert f.decide(f.score(doc("そうだ"))) == "too_few_stopwords"
