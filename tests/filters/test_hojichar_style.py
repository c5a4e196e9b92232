"""Tests of the HojiChar-style signals: one case per reason, keeps, boundaries."""

from __future__ import annotations

import pytest

from filters.hojichar_style import (
    AdPhraseFilter,
    BbsCommentFilter,
    CharRunFilter,
    EllipsisLineFilter,
    NounRatioFilter,
    ShortLineFilter,
    SpecialCharFilter,
)
from schemas.records import Doc

PROSE = "今日は朝から雨が降っていたので、傘を持って駅まで歩いて行きました。\n午後には晴れて、公園で子どもたちが元気に遊んでいました。"


def doc(text: str, scores: dict | None = None) -> Doc:
    return Doc(id="t", url="", source="", crawl_date="", text=text, scores=scores or {})


@pytest.mark.parametrize(
    "cls", [BbsCommentFilter, AdPhraseFilter, EllipsisLineFilter, ShortLineFilter, SpecialCharFilter, CharRunFilter]
)
def test_prose_kept_and_deterministic(cls) -> None:
    f = cls()
    scores = f.score(doc(PROSE))
    assert f.decide(scores) is None
    assert f.score(doc("".join(list(PROSE)))) == scores


def test_noun_ratio_reads_tokenizer_score() -> None:
    f = NounRatioFilter()
    assert f.decide(f.score(doc(PROSE, {"tokenize.noun_ratio": 0.80}))) == "too_many_nouns"
    assert f.decide(f.score(doc(PROSE, {"tokenize.noun_ratio": 0.7999}))) is None
    assert f.score(doc(PROSE, {"tokenize.noun_ratio": 0.5})) == {"noun_ratio": 0.5}


def test_noun_ratio_absent_key_measures_nothing_and_keeps() -> None:
    f = NounRatioFilter()
    assert f.score(doc("東京 大阪 名古屋 福岡 札幌", {"tokenize.n_tokens": 5.0})) == {}
    assert f.decide({}) is None


def test_noun_ratio_with_real_sudachi_step() -> None:
    pytest.importorskip("sudachipy")
    from filters.tokenize import SudachiTokenizer

    tok = SudachiTokenizer()
    f = NounRatioFilter()
    for text, expected in (("東京 大阪 名古屋 福岡 札幌 仙台 広島 京都", "too_many_nouns"), (PROSE, None)):
        d = doc(text)
        scores = {f"tokenize.{k}": v for k, v in tok.score(d).items()}
        assert f.decide(f.score(d._replace(scores=scores))) == expected


BBS_POST = "{i} 名前:名無しさん 投稿日:2012/02/19(日) 13:00:{i:02d} ID:AbCdEf{i:02d}\n>>{j} それはない"


def test_bbs_reason_and_boundary() -> None:
    f = BbsCommentFilter()
    # Each post has 5 matches: header, 名無しさん, time stamp, ID, anchor.
    two = "\n".join(BBS_POST.format(i=i, j=i - 1) for i in range(1, 3))
    assert f.score(doc(two)) == {"bbs_matches": 10.0}
    assert f.decide(f.score(doc(two))) is None
    three = "\n".join(BBS_POST.format(i=i, j=i - 1) for i in range(1, 4))
    assert f.decide(f.score(doc(three))) == "too_many_bbs_patterns"
    # Ordinary words that HojiChar's pattern counts are not BBS markup here.
    assert f.score(doc("コメント ページ 質問 投稿 レビュー - - -" * 5)) == {"bbs_matches": 0.0}
    assert f.score(doc("message usage passage IDEA:12345678 sage")) == {"bbs_matches": 1.0}


def test_bbs_header_is_not_a_timetable_or_score() -> None:
    # Lines that start with a time or a score have a digit after the colon; post
    # headers ("1 名前:", "123 :名無し") do not. A 12-line timetable was dropped before.
    f = BbsCommentFilter()
    timetable = "\n".join(f"{h}:00 第{h}部の開始" for h in range(9, 21))
    assert f.score(doc(timetable)) == {"bbs_matches": 0.0}
    scores = "\n".join(f"{i} : {i % 3} で試合終了" for i in range(12))
    assert f.score(doc(scores)) == {"bbs_matches": 0.0}
    assert f.score(doc("1 名前:太郎\n2 :返信\n3:そうだね")) == {"bbs_matches": 3.0}


def test_ad_reason_and_boundary() -> None:
    f = AdPhraseFilter()
    ten = "激安セール!送料無料でお届け。" * 5
    assert f.score(doc(ten)) == {"ad_matches": 10.0}
    assert f.decide(f.score(doc(ten))) is None
    assert f.decide(f.score(doc(ten + "副業で月収30万円も稼げる!"))) == "too_many_ad_phrases"


def test_ellipsis_lines_boundary() -> None:
    f = EllipsisLineFilter()
    teaser = "記事の冒頭だけが表示されて続きは..."
    seven = "\n".join([teaser] * 7 + ["本文です。"] * 3)
    assert f.score(doc(seven)) == {"ellipsis_line_ratio": pytest.approx(0.7)}
    assert f.decide(f.score(doc(seven))) is None
    eight = "\n".join([teaser] * 7 + ["続きは…"] + ["本文です。"] * 2)
    assert f.decide(f.score(doc(eight))) == "too_many_ellipsis_lines"


def test_short_lines_boundary() -> None:
    f = ShortLineFilter()
    long_line = "これは十文字より長い本文の行です。"
    ten_chars = "あいうえおかきくけこ"  # exactly 10 characters counts as short
    half = "\n".join([ten_chars] * 2 + [long_line] * 2)
    assert f.score(doc(half)) == {"short_line_ratio": 0.5}
    assert f.decide(f.score(doc(half))) is None
    assert f.decide(f.score(doc("\n".join([ten_chars] * 3 + [long_line] * 2)))) == "too_many_short_lines"
    eleven = ten_chars + "さ"
    assert f.decide(f.score(doc("\n".join([eleven] * 3 + [long_line] * 2)))) is None


def test_special_chars_boundary() -> None:
    f = SpecialCharFilter()
    # 1 special of 10 visible characters (spaces/newlines not counted) = 0.1 kept.
    assert f.score(doc("■あいう えおか\nきくけ")) == {"special_ratio": 0.1}
    assert f.decide(f.score(doc("■あいう えおか\nきくけ"))) is None
    assert f.decide(f.score(doc("■♪あいうえおかきく"))) == "too_many_special_chars"
    # Punctuation is not special.
    assert f.score(doc("「はい」、「いいえ」。!?"))["special_ratio"] == 0.0
    assert f.score(doc(""))["special_ratio"] == 0.0


def test_char_run_boundary() -> None:
    f = CharRunFilter()
    assert f.score(doc("あ" + "w" * 199 + "い")) == {"max_char_run": 199.0}
    assert f.decide(f.score(doc("あ" + "w" * 199 + "い"))) is None
    assert f.decide(f.score(doc("あ" + "ー" * 200))) == "char_run_too_long"
