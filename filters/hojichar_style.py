"""HojiChar-style document signals: nouns, BBS/ad patterns, line shape, symbols.

Modelled on HojiChar's document filters (``DiscardTooManyNouns``,
``DiscardBBSComments``, ``DiscardAds``, ``DiscardTooManyEndingEllipsis``,
``DiscardTooShortLines``, ``DiscardTooManySpecialToken``,
``SingleCharacterRepetitionFilter``; HojiChar/HojiChar on GitHub, Apache-2.0),
re-implemented as independent furui steps over the shared
:func:`filters.textstats.text_stats`. The BBS and advertisement pattern sets
are our own (HojiChar's BBS pattern matches ordinary words like ページ or 質問
and any "-", which fires on news text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Mapping

from filters.base import COUNT, SHARE, Filter
from filters.textstats import text_stats
from schemas.records import Doc


def _doc(text: str, scores: Mapping[str, float] | None = None) -> Doc:
    return Doc(id="", url="", source="", crawl_date="", text=text, scores=scores or {})


@dataclass(frozen=True)
class NounRatioFilter(Filter):
    """Drops word salad: keyword lists, tag clouds, SEO spam (too many nouns).

    Reads the noun share that the Sudachi step already measured
    (``doc.scores["tokenize.noun_ratio"]``: nouns / words, symbols and spaces
    excluded), so nothing is tokenised twice. A config must list ``tokenize``
    before it (``pipeline.config`` refuses anything else). Called directly on a
    document without that score, this step measures nothing and keeps the
    document: it cannot judge without a tokeniser and must not silently re-tokenise.

    Thresholds:
        max_noun_ratio: exclusive: drop when ``noun_ratio >= max_noun_ratio``
            (default 0.80, HojiChar ``DiscardTooManyNouns``). HojiChar tokenises
            with MeCab (fugashi) and UniDic short units; Sudachi's split mode changes the
            ratio of compound-heavy text (``国立国会図書館 東京都千代田区永田町 日本国憲法
            と 内閣総理大臣 衆議院議員選挙``: 0.75 / 0.875 / 0.818 in modes A / B / C),
            so the 0.80 of the default mode C is close to, not the same as, HojiChar's.

    Reasons:
        too_many_nouns.

    >>> f = NounRatioFilter()
    >>> f.decide(f.score(_doc("東京 大阪 名古屋", {"tokenize.noun_ratio": 0.9})))
    'too_many_nouns'
    >>> f.score(_doc("東京 大阪 名古屋")), f.decide({})
    ({}, None)
    """

    name: ClassVar[str] = "noun_ratio"
    reasons: ClassVar[tuple[str, ...]] = ("too_many_nouns",)
    bounds: ClassVar = {"max_noun_ratio": SHARE}
    max_noun_ratio: float = 0.80

    def score(self, doc: Doc) -> dict[str, float]:
        value = doc.scores.get("tokenize.noun_ratio") if doc.scores else None
        return {} if value is None else {"noun_ratio": float(value)}

    def decide(self, scores: Mapping[str, float]) -> str | None:
        value = scores.get("noun_ratio")
        # Inclusive, as HojiChar; "> 0" keeps max_noun_ratio = 0 from dropping noun-free text.
        if value is not None and value >= self.max_noun_ratio and value > 0:
            return "too_many_nouns"
        return None


# 2ch/5ch-style bulletin-board markup (text is NFKC: ＞＞ and ：are ASCII). Each
# pattern starts with a literal so the regex engine scans with a fast prefix
# search; one alternation of all of them was ~10x slower (every branch tried at
# every position). Lookbehinds placed after the literal give word boundaries.
_BBS_PATTERNS = (
    r">>\d+",  # reply anchor >>123
    r"名無し(?:さん)?",  # default poster name 名無しさん
    r"ID:(?<![A-Za-z]ID:)[0-9A-Za-z+/.]{8,}",  # poster ID:AbCd1234
    r"/\d{1,2} ?\([月火水木金土日]\) ?\d{1,2}:\d{2}",  # time stamp "…/19(日) 13:00"
    # Post header "123 名前:" (text is prefixed with \n); not a time or a score at a
    # line start ("10:00 開場", "1 : 1"), whose colon a digit follows.
    r"\n\d{1,4} ?(?:名前)? ?:(?! ?\d)",
    r"sage(?<![A-Za-z]sage)(?![A-Za-z])",  # the sage mail field, not "message"
    r"投稿者:",
)


@dataclass(frozen=True)
class BbsCommentFilter(Filter):
    """Drops bulletin-board threads and comment dumps (2ch-style markup).

    Counts matches of our own pattern set, summed over the patterns: reply
    anchors ``>>123``, the default name 名無しさん, ``ID:xxxxxxxx`` poster ids,
    post time stamps ``2012/02/19(日) 13:00:00`` (the ``/19(日) 13:00`` part),
    ``123 名前:`` / ``123 :`` headers at a line start, the word ``sage`` and
    ``投稿者:``. Threads are dialogue fragments with little prose and much PII.

    Thresholds:
        max_bbs_matches: inclusive (default 10: a quoted post or two is fine,
            a thread page has dozens; HojiChar uses 14 with broader patterns).

    Reasons:
        too_many_bbs_patterns.

    >>> f = BbsCommentFilter(max_bbs_matches=2)
    >>> f.decide(f.score(_doc("1 名無しさん 2012/02/19(日) 13:00:00 ID:AbCd1234\\n>>1 乙")))
    'too_many_bbs_patterns'
    """

    name: ClassVar[str] = "bbs_comments"
    reasons: ClassVar[tuple[str, ...]] = ("too_many_bbs_patterns",)
    bounds: ClassVar = {"max_bbs_matches": COUNT}
    max_bbs_matches: int = 10

    def load(self) -> None:
        if "patterns" not in self._state:
            self._state["patterns"] = [re.compile(p) for p in _BBS_PATTERNS]

    def score(self, doc: Doc) -> dict[str, float]:
        self.load()
        # The leading newline lets the header pattern match on the first line.
        text = "\n" + doc.text
        return {"bbs_matches": float(sum(len(p.findall(text)) for p in self._state["patterns"]))}

    def decide(self, scores: Mapping[str, float]) -> str | None:
        return "too_many_bbs_patterns" if scores["bbs_matches"] > self.max_bbs_matches else None


# Advertisement / affiliate / get-rich-quick phrases (our own list).
_AD_PHRASES = (
    "今すぐクリック",
    "今すぐ購入",
    "今すぐ申し込",
    "今なら",
    "今だけ",
    "送料無料",
    "激安",
    "最安値",
    "格安",
    "特価",
    "在庫処分",
    "在庫あり",
    "即日発送",
    "カートに入れる",
    "ポイント\\d+倍",
    "稼げる",
    "簡単に稼",
    "副業",
    "高収入",
    "月収\\d+万",
    "日給\\d+万",
    "完全無料",
    "無料登録",
    "無料プレゼント",
    "資料請求",
    "お申し込みはこちら",
    "詳しくはこちら",
    "クリックして",
    "限定\\d+名",
    "先着\\d+名",
    "お見逃しなく",
    "返金保証",
    "アフィリエイト",
    "出会い系",
)


@dataclass(frozen=True)
class AdPhraseFilter(Filter):
    """Drops advertising and get-rich-quick pages by counting ad phrases.

    Counts non-overlapping matches of our own phrase list (今すぐクリック,
    送料無料, 激安, 最安値, 稼げる, 副業, 高収入, 月収N万, 無料登録,
    詳しくはこちら, ...). A news article can mention 送料無料 once; a shop or
    affiliate page repeats such phrases in every block.

    Thresholds:
        max_ad_matches: inclusive (default 10, in the spirit of HojiChar
            ``DiscardAds``, which drops above 14 matches of its own list).

    Reasons:
        too_many_ad_phrases.

    >>> f = AdPhraseFilter()
    >>> f.decide(f.score(_doc("激安! 送料無料! 今すぐクリック! 稼げる副業! " * 3)))
    'too_many_ad_phrases'
    >>> f.decide(f.score(_doc("送料無料のキャンペーンが始まった。")))
    """

    name: ClassVar[str] = "ad_phrases"
    reasons: ClassVar[tuple[str, ...]] = ("too_many_ad_phrases",)
    bounds: ClassVar = {"max_ad_matches": COUNT}
    max_ad_matches: int = 10

    def load(self) -> None:
        if "pattern" not in self._state:
            self._state["pattern"] = re.compile("|".join(_AD_PHRASES))

    def score(self, doc: Doc) -> dict[str, float]:
        self.load()
        return {"ad_matches": float(len(self._state["pattern"].findall(doc.text)))}

    def decide(self, scores: Mapping[str, float]) -> str | None:
        return "too_many_ad_phrases" if scores["ad_matches"] > self.max_ad_matches else None


@dataclass(frozen=True)
class EllipsisLineFilter(Filter):
    """Drops teaser lists whose lines end in an ellipsis ("記事の冒頭...").

    Measures the share of non-empty lines ending in "..." or "…" (NFKC turns
    "…" into "..."), as RedPajama v2 does (``rps_doc_frac_lines_end_with_ellipsis``).
    HojiChar ``DiscardTooManyEndingEllipsis`` has the same threshold but a
    different ratio: matches of ``(\.{3}|…)\n`` over ``text.count("\n")``, so its
    last line never counts, blank lines count in the denominator and a one-line
    teaser is never dropped. The two disagree in both directions near the
    threshold (``A...\nB...\n本文。``: HojiChar 2/2 drops, here 2/3 keeps); the
    per-line share is the one the rule means.

    Thresholds:
        max_ellipsis_line_ratio: inclusive (default 0.7, HojiChar's value,
            chosen there to remove about 0.1% of C4: high precision).

    Reasons:
        too_many_ellipsis_lines.

    >>> f = EllipsisLineFilter()
    >>> f.decide(f.score(_doc("新製品が登場...\\n話題の映画が...\\n本日の天気は晴れ。")))
    >>> f.decide(f.score(_doc("新製品が登場...\\n話題の映画が...\\n本日の天気は...")))
    'too_many_ellipsis_lines'
    """

    name: ClassVar[str] = "ellipsis_lines"
    reasons: ClassVar[tuple[str, ...]] = ("too_many_ellipsis_lines",)
    bounds: ClassVar = {"max_ellipsis_line_ratio": SHARE}
    max_ellipsis_line_ratio: float = 0.7

    def score(self, doc: Doc) -> dict[str, float]:
        lines = text_stats(doc.text).lines
        if not lines:
            return {"ellipsis_line_ratio": 0.0}
        return {"ellipsis_line_ratio": sum(1 for x in lines if x.endswith(("...", "…"))) / len(lines)}

    def decide(self, scores: Mapping[str, float]) -> str | None:
        return "too_many_ellipsis_lines" if scores["ellipsis_line_ratio"] > self.max_ellipsis_line_ratio else None


@dataclass(frozen=True)
class ShortLineFilter(Filter):
    """Drops navigation-like pages made mostly of short lines (menus, breadcrumbs).

    Measures the share of non-empty lines of at most ``max_short_line_chars``
    code points, lines stripped of surrounding whitespace. After HojiChar
    ``DiscardTooShortLines``, which counts every ``split("\n")`` line unstripped
    (blank lines as short, indentation as length); on normalised text (lines
    stripped, blank lines dropped by the ``normalize`` step) the two are the same.

    Thresholds:
        max_short_line_chars: a line this long or shorter is short (default 10,
            HojiChar's value).
        max_short_line_ratio: inclusive (default 0.5, HojiChar's value).

    Reasons:
        too_many_short_lines.

    >>> f = ShortLineFilter()
    >>> f.decide(f.score(_doc("ホーム\\n会社概要\\nお問い合わせ\\n本文はここから始まる長い一行です。")))
    'too_many_short_lines'
    >>> f.decide(f.score(_doc("ホーム\\n本文はここから始まる長い一行です。")))
    """

    name: ClassVar[str] = "short_lines"
    reasons: ClassVar[tuple[str, ...]] = ("too_many_short_lines",)
    bounds: ClassVar = {"max_short_line_chars": COUNT, "max_short_line_ratio": SHARE}
    max_short_line_chars: int = 10
    max_short_line_ratio: float = 0.5

    def score(self, doc: Doc) -> dict[str, float]:
        lines = text_stats(doc.text).lines
        if not lines:
            return {"short_line_ratio": 0.0}
        limit = self.max_short_line_chars
        return {"short_line_ratio": sum(1 for x in lines if len(x) <= limit) / len(lines)}

    def decide(self, scores: Mapping[str, float]) -> str | None:
        return "too_many_short_lines" if scores["short_line_ratio"] > self.max_short_line_ratio else None


@dataclass(frozen=True)
class SpecialCharFilter(Filter):
    """Drops text full of symbols: ASCII art, emoji spam, decorated ads, mojibake.

    Measures special characters / non-whitespace characters. Special characters
    are symbols (Unicode Sm, Sc, Sk, So: ■★♪→©, emoji), control, format,
    private-use and unassigned code points, stray combining marks and U+FFFD
    (see :mod:`filters.textstats`). Unlike BigScience/HojiChar
    ``DiscardTooManySpecialToken`` (threshold 0.4) punctuation and whitespace
    are not counted: Japanese prose is rich in 。、「」 and would need a loose
    threshold; without them, normal text scores near 0.

    Thresholds:
        max_special_ratio: inclusive (default 0.1: livedoor news headings with
            ■ and ★ stay well below; ASCII-art and emoji pages exceed it).

    Reasons:
        too_many_special_chars.

    >>> f = SpecialCharFilter()
    >>> f.decide(f.score(_doc("■お知らせ\\n本日は晴天なり。")))
    >>> f.decide(f.score(_doc("★☆★☆ 最新情報 ★☆★☆ ♪♪♪")))
    'too_many_special_chars'
    """

    name: ClassVar[str] = "special_chars"
    reasons: ClassVar[tuple[str, ...]] = ("too_many_special_chars",)
    bounds: ClassVar = {"max_special_ratio": SHARE}
    max_special_ratio: float = 0.1

    def score(self, doc: Doc) -> dict[str, float]:
        st = text_stats(doc.text)
        visible = st.n_chars - st.n_space
        return {"special_ratio": st.n_special / visible if visible else 0.0}

    def decide(self, scores: Mapping[str, float]) -> str | None:
        return "too_many_special_chars" if scores["special_ratio"] > self.max_special_ratio else None


@dataclass(frozen=True)
class CharRunFilter(Filter):
    """Drops text with one character repeated very many times in a row.

    Measures the longest run of a single repeated code point ("ああああ...",
    "wwwwww", 2M backslashes found in OSCAR by BigScience). HojiChar
    ``SingleCharacterRepetitionFilter`` drops at 200 or more.

    Thresholds:
        max_char_run: inclusive: drop when the longest run exceeds it (default
            199, i.e. a run of 200 or more drops, as in HojiChar).

    Reasons:
        char_run_too_long.

    >>> f = CharRunFilter()
    >>> f.decide(f.score(_doc("草" + "w" * 199))), f.decide(f.score(_doc("草" + "w" * 200)))
    (None, 'char_run_too_long')
    """

    name: ClassVar[str] = "char_run"
    reasons: ClassVar[tuple[str, ...]] = ("char_run_too_long",)
    bounds: ClassVar = {"max_char_run": (1, None)}
    max_char_run: int = 199

    def score(self, doc: Doc) -> dict[str, float]:
        return {"max_char_run": float(text_stats(doc.text).max_run)}

    def decide(self, scores: Mapping[str, float]) -> str | None:
        return "char_run_too_long" if scores["max_char_run"] > self.max_char_run else None
