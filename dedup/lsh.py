"""LSH banding and candidate edges.

A signature of ``b * r`` values is cut into ``b`` bands of ``r`` rows; two
documents become candidates when all rows of at least one band are equal
(probability ``1 - (1 - J^r)^b`` for Jaccard ``J``). Each band is reduced to a
64-bit hash and keyed by ``(band index, band hash)``: documents sharing a key
fall into the same bucket.

Within a bucket we emit a *star*: one edge from every member to the bucket's
minimum, never all pairs. A bucket of ``m`` members then costs ``m - 1``
edges instead of ``m(m-1)/2`` and connectivity is unchanged.
"""

from __future__ import annotations

import struct
from typing import Any, Iterable, Iterator

import numpy as np

from dedup.shingle import fmix64


def band_hashes(sigs: np.ndarray, bands: int, rows: int, seed: int = 1) -> np.ndarray:
    """Hash each band of each signature to 64 bits.

    Args:
        sigs: ``uint32`` signatures of shape ``(docs, bands * rows)``.
        bands: Number of bands ``b``.
        rows: Rows per band ``r``.
        seed: Mixed into the hash so runs with different seeds do not share keys.

    Returns:
        ``uint64`` array ``(docs, bands)``; equal bands give equal hashes, and
        distinct bands collide with probability ~2^-64.

    >>> s = np.array([[1, 2, 3, 4], [1, 2, 9, 9]], dtype=np.uint32)
    >>> h = band_hashes(s, bands=2, rows=2)
    >>> bool(h[0, 0] == h[1, 0]), bool(h[0, 1] == h[1, 1])
    (True, False)
    """
    docs = sigs.shape[0]
    if sigs.shape[1] != bands * rows:
        raise ValueError(f"signature length {sigs.shape[1]} != bands*rows = {bands * rows}")
    x = sigs.reshape(docs, bands, rows).astype(np.uint64)
    acc = np.full((docs, bands), np.uint64(seed), dtype=np.uint64)
    for j in range(rows):
        # Sequential mixing (not a sum) so the row order matters.
        acc = fmix64((acc.ravel() ^ x[:, :, j].ravel()) + np.uint64(0x9E3779B97F4A7C15)).reshape(docs, bands)
    return acc


def band_keys(hashes_row: np.ndarray) -> list[bytes]:
    """Shuffle keys of one document's bands: 2-byte band index + 8-byte hash.

    The band index is part of the key so that equal values in different bands
    never meet (LSH compares band ``i`` with band ``i`` only).

    >>> band_keys(np.array([5, 7], dtype=np.uint64))[1].hex()
    '00010000000000000007'
    """
    return [struct.pack(">HQ", i, int(h)) for i, h in enumerate(hashes_row.tolist())]


def star_edges(members: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
    """Edges ``(member, minimum)`` linking every bucket member to the bucket minimum.

    Reads ``members`` twice (Beam's grouped values are re-iterable) and holds
    only the minimum in memory, so a huge bucket costs O(1) memory and O(m) time.
    Duplicate members (the same document can only appear once per band) are
    harmless: they produce no self-edge.

    >>> list(star_edges(["c", "a", "b"]))
    [('c', 'a'), ('b', 'a')]
    """
    smallest = None
    for m in members:
        if smallest is None or m < smallest:
            smallest = m
    if smallest is None:
        return
    for m in members:
        if m != smallest:
            yield (m, smallest)
