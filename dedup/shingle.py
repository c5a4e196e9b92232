"""Shingling: turn a normalised text into the set of n-grams MinHash works on.

Two views of the same shingles:

* :func:`shingles` returns them as strings (reference path, datasketch mode,
  exact Jaccard in tests);
* :func:`shingle_hashes_batch` returns 64-bit hashes of the same n-grams for a
  whole batch of documents with a handful of numpy passes (the hot path).

Characters are taken as they are after NFKC: combining marks and dakuten are
never stripped, so ``が`` and ``か`` stay different shingles (STYLE.md 5).
A document shorter than ``n`` units has one shingle, its whole text, so it still
gets a signature; an empty document has no shingle.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

_M64 = (1 << 64) - 1
# MurmurHash3 fmix64 constants: an avalanching bijection on 64-bit words.
_C1 = np.uint64(0xFF51AFD7ED558CCD)
_C2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_SEP = "\x1f"  # joins word n-grams into one string (never produced by Sudachi surfaces)


def fmix64(x: np.ndarray) -> np.ndarray:
    """MurmurHash3 64-bit finaliser, element-wise, on a copy.

    Args:
        x: uint64 array.

    Returns:
        A new uint64 array; equal inputs give equal outputs, and every output
        bit depends on every input bit (so low/high bits can be used as
        independent hash bits).

    >>> int(fmix64(np.array([0], dtype=np.uint64))[0])
    0
    >>> int(fmix64(np.array([1], dtype=np.uint64))[0]) != 1
    True
    """
    x = np.array(np.atleast_1d(x), dtype=np.uint64)  # always a copy
    fmix64_inplace(x, np.empty_like(x))
    return x


def fmix64_inplace(x: np.ndarray, tmp: np.ndarray) -> None:
    """:func:`fmix64` of a uint64 array in place, using ``tmp`` (same shape) as scratch.

    Eight numpy passes and no allocation: the hot path calls this on
    preallocated buffers (a fresh 2 MB temporary costs as much as a pass,
    page faults included).
    """
    np.right_shift(x, _S33, out=tmp)
    x ^= tmp
    x *= _C1
    np.right_shift(x, _S33, out=tmp)
    x ^= tmp
    x *= _C2
    np.right_shift(x, _S33, out=tmp)
    x ^= tmp


@lru_cache(maxsize=32)
def _position_multipliers(n: int, seed: int) -> np.ndarray:
    """Random odd 64-bit multipliers, one per n-gram position (fixed by ``seed``)."""
    gen = np.random.Generator(np.random.PCG64(seed))
    mult = gen.integers(0, 1 << 63, size=n, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    mult.flags.writeable = False
    return mult


def tokenize_words(text: str, tokenizer: Callable[[str], Sequence[str]] | None = None) -> list[str]:
    """Split text into Sudachi surface forms (mode C) for word shingles.

    Args:
        text: NFKC-normalised text.
        tokenizer: Callable returning surfaces; injected in tests. When None a
            SudachiPy ``core`` dictionary tokenizer is created once per process.

    Returns:
        List of surface strings (whitespace-only morphemes dropped).
    """
    if tokenizer is None:
        tokenizer = _default_sudachi()
    return [w for w in tokenizer(text) if w.strip()]


_SUDACHI = None
_SUDACHI_CHUNK_CHARS = 12_000


def _default_sudachi() -> Callable[[str], Sequence[str]]:
    global _SUDACHI
    if _SUDACHI is None:
        from sudachipy import Dictionary, SplitMode

        tok = Dictionary(dict="core").create(mode=SplitMode.C)
        # Sudachi refuses inputs over 49,149 bytes: a code point is at most 4
        # bytes of UTF-8, so 12,000 of them always fit (16,000 did only while
        # no character needed 4 bytes: emoji and rare kanji do).
        def run(text: str) -> list[str]:
            out: list[str] = []
            for chunk in _chunks(text, _SUDACHI_CHUNK_CHARS):
                out.extend(m.surface() for m in tok.tokenize(chunk))
            return out

        _SUDACHI = run
    return _SUDACHI


def _chunks(text: str, size: int):
    for start in range(0, len(text), size):
        yield text[start : start + size]


def shingles(text: str, n: int = 5, tokenizer: str = "char", words: Sequence[str] | None = None) -> list[str]:
    """Return the n-gram shingles of a text as strings (with repeats).

    Args:
        text: NFKC-normalised document text.
        n: Shingle length in characters or words (default 5, see ``DedupParams``).
        tokenizer: ``"char"`` or ``"sudachi"``.
        words: Pre-computed Sudachi surfaces (only for ``tokenizer="sudachi"``).

    Returns:
        Character n-grams, or word n-grams joined by U+001F. A text shorter
        than ``n`` units yields one shingle (the whole text); '' yields none.

    >>> shingles("がっこうです", 5)
    ['がっこうで', 'っこうです']
    >>> shingles("か", 5)
    ['か']
    >>> shingles("", 5)
    []
    """
    if tokenizer == "char":
        units: Sequence[str] = text
        join = "".join
    else:
        units = list(words) if words is not None else tokenize_words(text)
        join = _SEP.join
    if not units:
        return []
    if len(units) < n:
        return [join(units)]
    return [join(units[i : i + n]) for i in range(len(units) - n + 1)]


def jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    """Exact Jaccard similarity of two shingle collections (as sets).

    >>> jaccard(["a", "b"], ["b", "c"])
    0.3333333333333333
    """
    sa, sb = set(a), set(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


def _word_units(words: Sequence[str]) -> np.ndarray:
    import xxhash

    # One 64-bit id per word; the rolling combination below then forms n-grams.
    return np.fromiter((xxhash.xxh3_64_intdigest(w.encode("utf-8")) for w in words), dtype=np.uint64, count=len(words))


def batch_units(
    texts: Sequence[str], tokenizer: str = "char", words: Sequence[Sequence[str]] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Units of a batch, concatenated: ``(units, lengths)``.

    ``units`` are the Unicode code points of all texts (``uint32``, a view of
    one UTF-32 encoding, ``"char"``) or xxh3 hashes of Sudachi surfaces
    (``uint64``, ``"sudachi"``); ``lengths[d]`` is document ``d``'s unit count.
    """
    if tokenizer == "char":
        units = np.frombuffer("".join(texts).encode("utf-32-le"), dtype="<u4")
        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    else:
        if words is None:
            words = [tokenize_words(t) for t in texts]
        lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
        units = _word_units([w for ws in words for w in ws])
    return units, lengths


def window_hashes(units: np.ndarray, n: int, seed: int, out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """Hash of every length-``n`` window of ``units``, written into ``out``.

    Window ``i`` (``0 <= i <= len(units) - n``) hashes to
    ``fmix64((sum_j (units[i+j] + 1) * A_j mod 2^64) ^ seed)`` with the random
    odd multipliers ``A_j`` of :func:`_position_multipliers`. Windows that
    straddle two documents of a concatenated batch are hashed too; callers
    drop or ignore them. ``n`` multiplies, ``n + 1`` additions, one xor and
    :func:`fmix64_inplace`, all in place: no temporary array.

    Args:
        units: ``uint32`` or ``uint64`` units (see :func:`batch_units`).
        n: Window length.
        seed: Hash seed.
        out, tmp: ``uint64`` buffers with at least ``len(units) - n + 1`` elements.

    Returns:
        ``out[:len(units) - n + 1]`` (empty when ``len(units) < n``).
    """
    w = max(units.shape[0] - n + 1, 0)
    acc, t = out[:w], tmp[:w]
    if w == 0:
        return acc
    mult = _position_multipliers(n, seed)
    np.multiply(units[0:w], mult[0], out=acc)
    for j in range(1, n):
        np.multiply(units[j : j + w], mult[j], out=t)
        acc += t
    # The units are shifted by +1 (so a short document's absent units, 0,
    # differ from real ones): sum_j (u_j + 1) A_j = sum_j u_j A_j + sum_j A_j.
    acc += np.uint64(int(mult.sum(dtype=np.uint64)))
    acc ^= np.uint64(seed)
    fmix64_inplace(acc, t)
    return acc


def short_doc_hash(units: np.ndarray, n: int, seed: int) -> int:
    """Hash of the single shingle of a document shorter than ``n`` units (its
    whole text), consistent with :func:`window_hashes` (missing units count 0)."""
    mult = _position_multipliers(n, seed)
    terms = (units.astype(np.uint64) + np.uint64(1)) * mult[: units.shape[0]]
    h = np.add.reduce(terms, dtype=np.uint64, keepdims=True)  # wraps mod 2^64
    return int(fmix64(h ^ np.uint64(seed))[0])


def shingle_hashes_batch(
    texts: Sequence[str],
    n: int = 5,
    seed: int = 1,
    tokenizer: str = "char",
    words: Sequence[Sequence[str]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Hash every n-gram of every text of a batch to 64 bits, vectorised.

    The n-gram hash is ``fmix64(sum_j unit[i+j] * A_j)`` with random odd
    multipliers ``A_j`` (a multilinear hash, then an avalanching finaliser),
    computed with ``n`` numpy passes over the concatenated batch instead of one
    Python call per shingle (:func:`window_hashes`). Units are Unicode code
    points (``"char"``) or xxh3 hashes of Sudachi surfaces (``"sudachi"``).
    MinHash (``dedup.minhash``) uses :func:`window_hashes` directly and skips
    the compaction done here.

    Args:
        texts: Documents of the batch (NFKC text).
        n: Shingle length in units.
        seed: Hash seed (equal seeds give equal hashes).
        tokenizer: ``"char"`` or ``"sudachi"``.
        words: Pre-tokenised surfaces per document (``"sudachi"`` only).

    Returns:
        ``(hashes, offsets)``: uint64 hashes of all shingles of the batch, and
        int64 offsets of length ``len(texts) + 1`` so that document ``d`` owns
        ``hashes[offsets[d]:offsets[d+1]]`` (repeats included; MinHash ignores
        them).

    >>> h, off = shingle_hashes_batch(["がっこうです", "か", ""], n=5)
    >>> off.tolist()
    [0, 2, 3, 3]
    >>> h2, _ = shingle_hashes_batch(["っこうです"], n=5)
    >>> bool(h[1] == h2[0])
    True
    """
    units, lengths = batch_units(texts, tokenizer, words)
    starts = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    size = max(units.shape[0] - n + 1, 0)
    acc = window_hashes(units, n, seed, np.empty(size, np.uint64), np.empty(size, np.uint64))
    counts = np.where(lengths >= n, lengths - n + 1, np.minimum(lengths, 1))
    # Keep, for each document, its first `counts[d]` window starts.
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    if offsets[-1] == size and not ((lengths > 0) & (lengths < n)).any():
        keep = acc  # one document (or none) of length >= n: nothing to drop
    else:
        keep = np.empty(offsets[-1], dtype=np.uint64)
        full = lengths >= n
        cf = counts[full]
        # Window k of the full documents' windows, in document d, starts at
        # unit k - (windows of the full documents before d) + starts[d].
        idx = np.arange(int(cf.sum()), dtype=np.int64)
        idx += np.repeat(starts[:-1][full] - (np.cumsum(cf) - cf), cf)
        keep[np.repeat(full, counts)] = acc[idx]
        for d in np.flatnonzero((lengths > 0) & (lengths < n)):
            keep[offsets[d]] = short_doc_hash(units[starts[d] : starts[d + 1]], n, seed)
    return keep, offsets
