import pytest

from filters.hiragana import HiraganaRatioFilter, hiragana_ratio
from filters.length import LengthFilter
from schemas.records import Doc


def doc(text):
    return Doc(id="1", url="", source="", crawl_date="", text=text)


@pytest.mark.parametrize("n, expected", [(199, "too_short"), (200, None), (500_000, None), (500_001, "too_long")])
def test_length_boundaries(n, expected):
    f = LengthFilter()
    assert f.decide(f.score(doc("あ" * n))) == expected


def test_hiragana_ratio_ignores_whitespace():
    assert hiragana_ratio("あい う\nえ") == 1.0
    assert hiragana_ratio("漢字 かな") == 0.5


@pytest.mark.parametrize("text, expected", [("あ漢漢漢漢", None), ("あ漢漢漢漢漢", "too_few_hiragana")])
def test_hiragana_boundary_is_inclusive(text, expected):
    # 1/5 = 0.2 is kept (inclusive); 1/6 < 0.2 is dropped.
    f = HiraganaRatioFilter(min_ratio=0.2)
    assert f.decide(f.score(doc(text))) == expected


def test_hiragana_keep_and_drop_real_sentences():
    f = HiraganaRatioFilter()
    assert f.decide(f.score(doc("今日は朝から雨が降っていたので、家で本を読んで過ごしました。"))) is None
    assert f.decide(f.score(doc("格安航空券 東京 大阪 最安値 比較 予約"))) == "too_few_hiragana"
    assert f.decide(f.score(doc("This is an English sentence."))) == "too_few_hiragana"


def test_scores_are_deterministic():
    f = HiraganaRatioFilter()
    d = doc("日本語のテキストです。")
    assert f.score(d) == f.score(d)
