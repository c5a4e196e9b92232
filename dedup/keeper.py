"""Keeper order: which document of a duplicate cluster survives.

Every document gets a *rank*: a ``(bytes, id)`` tuple whose natural order is
the configured keeper preference (``DedupParams.keeper``), with the id as the
final tie-breaker. Dedup then works on ranks instead of ids: the minimum rank
of a cluster is its keeper, so connected components labelled by their minimum
node directly name the keeper, and no extra shuffle is needed to pick it.
"""

from __future__ import annotations

import struct
from typing import Sequence

Rank = tuple[bytes, str]


def _float_key(x: float, descending: bool) -> bytes:
    """8 bytes whose byte order equals the numeric order of ``x`` (or its reverse)."""
    if x != x:  # NaN sorts last in both directions
        return b"\xff" * 8
    if descending:
        x = -x
    (bits,) = struct.unpack(">Q", struct.pack(">d", x + 0.0))  # +0.0 folds -0.0 into 0.0
    bits = bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | (1 << 63)
    return struct.pack(">Q", bits)


def _str_key(s: str, descending: bool) -> bytes:
    """Self-delimiting bytes ordering strings; empty strings sort last."""
    if not s:
        return b"\x01"
    raw = s.encode("utf-8")
    if descending:
        # Complement the bytes; the terminator sorts after every complemented
        # byte so that a longer string with the same prefix comes first.
        body = bytes(255 - c for c in raw).replace(b"\xff", b"\xff\x00")
        return b"\x00" + body + b"\xff\xff"
    return b"\x00" + raw.replace(b"\x00", b"\x00\xff") + b"\x00\x00"


def rank_key(doc_id: str, quality: float, crawl_date: str, n_chars: int, keeper: Sequence[str]) -> Rank:
    """Rank of a document: smaller ranks are preferred as keepers.

    Args:
        doc_id: Document id (always the last tie-breaker, ascending).
        quality: ``Doc.quality`` (higher is better with ``quality_desc``).
        crawl_date: ISO-8601 capture date compared as a string; '' sorts last
            in both directions (an unknown date never wins on date).
        n_chars: Text length in code points.
        keeper: Criteria in priority order (see ``dedup.params.KEEPER_CRITERIA``).

    Returns:
        ``(key_bytes, doc_id)``; compare with ``<`` / ``min``.

    >>> keeper = ("quality_desc", "crawl_date_asc", "id_asc")
    >>> a = rank_key("b", 0.9, "", 10, keeper)
    >>> b = rank_key("a", 0.5, "2020-01-01", 10, keeper)
    >>> c = rank_key("c", 0.5, "2019-01-01", 10, keeper)
    >>> [r[1] for r in sorted([b, c, a])]
    ['b', 'c', 'a']
    """
    parts = []
    for criterion in keeper:
        if criterion == "quality_desc":
            parts.append(_float_key(float(quality), True))
        elif criterion == "quality_asc":
            parts.append(_float_key(float(quality), False))
        elif criterion == "crawl_date_asc":
            parts.append(_str_key(crawl_date, False))
        elif criterion == "crawl_date_desc":
            parts.append(_str_key(crawl_date, True))
        elif criterion == "n_chars_desc":
            parts.append(_float_key(float(n_chars), True))
        elif criterion == "n_chars_asc":
            parts.append(_float_key(float(n_chars), False))
        elif criterion == "id_asc":
            break  # the id is the tuple's second element: compared last anyway
        else:
            raise ValueError(f"unknown keeper criterion {criterion!r}")
    return (b"".join(parts), doc_id)
