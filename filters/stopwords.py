"""FineWeb-2's stop-word presence rule for Japanese."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Mapping

from filters.base import COUNT, SHARE, Filter
from schemas.records import Doc

# FineWeb-2's Japanese stop words (the language's most frequent word tokens).
FINEWEB2_JA_STOPWORDS = ("の", "に", "を", "は", "た", "て", "が", "と", "で", "年", "し", "・", "月", "れ", "さ")


@dataclass(frozen=True)
class StopwordFilter(Filter):
    """Drops text with (almost) no function words: lists, tables, keyword spam.

    FineWeb-2 (Penedo et al. 2025) keeps a document only if it contains at
    least 2 stop words of its language (Gopher's rule, with per-language word
    lists); for Japanese the list is the 15 single-character words of
    :data:`FINEWEB2_JA_STOPWORDS`.

    Counting: FineWeb-2 (datatrove's ``GopherQualityFilter``) counts the
    *distinct* stop words among the word tokens (``len(stop_words & set(words))``),
    so one stop word repeated is not enough: ``東京・大阪・名古屋`` has one. We
    count distinct stop words too, but as *substrings* of the text rather than
    tokens: Japanese has no spaces, and the tokenize step records only aggregate
    ratios. A substring test finds し inside しかし and 年 inside 年金, so the
    rule is slightly more lenient than token matching; it is meant as a cheap
    last-resort check that catches text with almost no Japanese function words,
    and 15 ``in`` tests in C keep it ~1 µs per document.

    Thresholds:
        min_stopwords: inclusive (default 2, FineWeb-2's value).
        stopwords: the words counted (default FineWeb-2's Japanese list).

    Reasons:
        too_few_stopwords.

    >>> f = StopwordFilter()
    >>> f.decide(f.score(Doc(id="", url="", source="", crawl_date="", text="東京都新宿区西新宿")))
    'too_few_stopwords'
    >>> f.decide(f.score(Doc(id="", url="", source="", crawl_date="", text="東京・大阪・名古屋・福岡")))
    'too_few_stopwords'
    >>> f.decide(f.score(Doc(id="", url="", source="", crawl_date="", text="猫が庭で遊んでいる")))
    """

    name: ClassVar[str] = "stopwords"
    reasons: ClassVar[tuple[str, ...]] = ("too_few_stopwords",)
    bounds: ClassVar = {"min_stopwords": COUNT}
    min_stopwords: int = 2
    stopwords: tuple[str, ...] = FINEWEB2_JA_STOPWORDS

    def __post_init__(self) -> None:
        # TOML gives lists; keep the dataclass hashable and immutable.
        object.__setattr__(self, "stopwords", tuple(self.stopwords))
        super().__post_init__()
        if not all(self.stopwords):
            raise ValueError("stopwords must be non-empty strings")
        if self.min_stopwords > len(set(self.stopwords)):
            raise ValueError(f"min_stopwords ({self.min_stopwords}) is above the number of distinct stopwords "
                             f"({len(set(self.stopwords))}): no document could pass")

    def score(self, doc: Doc) -> dict[str, float]:
        text = doc.text
        return {"stopwords": float(sum(w in text for w in set(self.stopwords)))}

    def decide(self, scores: Mapping[str, float]) -> str | None:
        return "too_few_stopwords" if scores["stopwords"] < self.min_stopwords else None
