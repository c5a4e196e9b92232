"""zlib compression-ratio bounds (LLM-jp corpus)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import ClassVar, Mapping

from filters.base import COUNT, SHARE, Filter
from filters.textstats import text_stats
from schemas.records import Doc


@dataclass(frozen=True)
class CompressionRatioFilter(Filter):
    """Drops text that compresses too well (repetitive) or too badly (random).

    Measures ``len(zlib.compress(utf8, level)) / len(utf8)`` over the UTF-8
    bytes of the text, the signal of the LLM-jp corpus filters (LLM-jp corpus
    v2/v3, ``zlib`` ratio bounds 0.30..0.70).

    Direction: a *low* ratio means the text is highly compressible, i.e.
    repetitive (boilerplate repeated, spam, the same line many times); a *high*
    ratio means nearly incompressible bytes: random strings, base64/hex blobs,
    encrypted or binary-ish mojibake, lists of unrelated tokens. Very short
    texts score high because of the zlib header (an empty text scores 0), so
    run this after the length filters.

    Thresholds:
        min_compression_ratio: inclusive (default 0.30).
        max_compression_ratio: inclusive (default 0.70).
        level: zlib level (default 6, ``zlib.compress``'s default, which the
            LLM-jp values were measured with; changing it shifts the ratios).

    Reasons:
        too_compressible, too_incompressible.

    >>> f = CompressionRatioFilter()
    >>> f.decide(f.score(Doc(id="", url="", source="", crawl_date="", text="同じ文です。" * 100)))
    'too_compressible'
    """

    name: ClassVar[str] = "compression_ratio"
    reasons: ClassVar[tuple[str, ...]] = ("too_compressible", "too_incompressible")
    # Tiny texts compress to more than their size (zlib's header): a maximum above 1 is legitimate.
    bounds: ClassVar = {"min_compression_ratio": SHARE, "max_compression_ratio": COUNT, "level": (-1, 9)}
    ordered: ClassVar = (("min_compression_ratio", "max_compression_ratio"),)
    min_compression_ratio: float = 0.30
    max_compression_ratio: float = 0.70
    level: int = 6

    def score(self, doc: Doc) -> dict[str, float]:
        raw = text_stats(doc.text).utf8
        if not raw:
            return {"compression_ratio": 0.0}
        return {"compression_ratio": len(zlib.compress(raw, self.level)) / len(raw)}

    def decide(self, scores: Mapping[str, float]) -> str | None:
        if scores["compression_ratio"] < self.min_compression_ratio:
            return "too_compressible"
        if scores["compression_ratio"] > self.max_compression_ratio:
            return "too_incompressible"
        return None
