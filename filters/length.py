"""Document length bounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Mapping

from filters.base import COUNT, SHARE, Filter
from schemas.records import Doc


@dataclass(frozen=True)
class LengthFilter(Filter):
    """Drops documents that are too short to be prose or too long to be one page.

    Measures ``n_chars``, the number of code points of the normalised text.

    Thresholds:
        min_chars: minimum length, inclusive (default 200: below that a page is a
            stub, a navigation fragment or an error message).
        max_chars: maximum length, inclusive (default 500,000: longer extracted
            texts are dumps, logs or concatenated archives).

    Reasons:
        too_short: ``n_chars < min_chars``.
        too_long: ``n_chars > max_chars``.

    >>> f = LengthFilter(min_chars=2, max_chars=4)
    >>> [f.decide({"n_chars": n}) for n in (1, 2, 4, 5)]
    ['too_short', None, None, 'too_long']
    """

    name: ClassVar[str] = "length"
    reasons: ClassVar[tuple[str, ...]] = ("too_short", "too_long")
    bounds: ClassVar = {"min_chars": COUNT, "max_chars": COUNT}
    ordered: ClassVar = (("min_chars", "max_chars"),)
    min_chars: int = 200
    max_chars: int = 500_000

    def score(self, doc: Doc) -> dict[str, float]:
        return {"n_chars": float(len(doc.text))}

    def decide(self, scores: Mapping[str, float]) -> str | None:
        if scores["n_chars"] < self.min_chars:
            return "too_short"
        if scores["n_chars"] > self.max_chars:
            return "too_long"
        return None
