"""Hiragana share: the cheapest signal that a text is Japanese prose."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Mapping

from filters.base import COUNT, SHARE, Filter
from filters.textstats import text_stats
from schemas.records import Doc


def hiragana_ratio(text: str) -> float:
    """Share of hiragana among non-whitespace characters.

    Hiragana are the letters U+3041..U+3096 and the iteration marks ゝゞゟ
    (:mod:`filters.textstats` classes, computed once per text and shared with the
    other filters, vectorised over code points).

    >>> round(hiragana_ratio("これは本です"), 3)
    0.833
    >>> hiragana_ratio("")
    0.0
    """
    st = text_stats(text)
    visible = st.n_chars - st.n_space
    return st.n_hiragana / visible if visible else 0.0


@dataclass(frozen=True)
class HiraganaRatioFilter(Filter):
    """Drops text with too little hiragana (likely not Japanese prose).

    Japanese prose is held together by hiragana particles and inflections
    (typically 30-60% of characters); product lists, navigation, Chinese text
    and keyword spam have almost none. Related to HojiChar's ``AcceptJapanese``
    and Swallow's hiragana rule, but over all non-space characters.

    Thresholds:
        min_ratio: minimum hiragana share, inclusive (default 0.2).

    Reasons:
        too_few_hiragana: ``ratio < min_ratio``.

    >>> f = HiraganaRatioFilter(min_ratio=0.2)
    >>> f.decide(f.score(Doc(id="1", url="", source="", crawl_date="", text="東京都千代田区")))
    'too_few_hiragana'
    >>> f.decide(f.score(Doc(id="1", url="", source="", crawl_date="", text="今日はいい天気です")))
    """

    name: ClassVar[str] = "hiragana_ratio"
    reasons: ClassVar[tuple[str, ...]] = ("too_few_hiragana",)
    bounds: ClassVar = {"min_ratio": SHARE}
    min_ratio: float = 0.2

    def score(self, doc: Doc) -> dict[str, float]:
        return {"ratio": hiragana_ratio(doc.text)}

    def decide(self, scores: Mapping[str, float]) -> str | None:
        return "too_few_hiragana" if scores["ratio"] < self.min_ratio else None
