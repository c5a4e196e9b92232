"""MinHash signatures for a batch of documents.

Two interchangeable methods (``DedupParams.method``):

``"oph"``
    One-permutation hashing (Li, Owen & Zhang, NIPS 2012) with optimal
    densification (Shrivastava, ICML 2017). Each shingle hash is split into a
    bin index (``num_perm`` bins) and a 32-bit value; a bin keeps its minimum
    value; empty bins copy the value of a bin chosen by a fixed pseudo-random
    probe sequence, the same for every document so equal sets stay equal. The
    collision probability of one position is the Jaccard similarity, as for
    classic MinHash, but the cost is O(shingles + num_perm) per document
    instead of O(shingles * num_perm), and the whole batch is computed with a
    few numpy passes.

``"datasketch"``
    Bit-identical to ``datasketch.MinHash(num_perm, seed)`` (scheme
    ``affine32``: SHA-1 32-bit hash, MurmurHash3 fmix32, ``a*h+b mod 2^32``),
    vectorised over the batch. Use it to compare against sketches built
    elsewhere with datasketch.

Signatures are ``uint32`` arrays of shape ``(docs, num_perm)``; an empty
document gets all ``0xFFFFFFFF`` (as datasketch does).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Sequence

import numpy as np

from dedup.shingle import batch_units, fmix64, short_doc_hash, shingles, window_hashes

EMPTY = np.uint32(0xFFFFFFFF)
_PROBE_TABLE_ROUNDS = 32
# Units (characters) per vectorised sub-batch: the three uint64 working arrays
# (3 x 256 KB) stay in the L2 cache. Measured on livedoor (2,060 shingles/doc):
# see bench/RESULTS-dedup.md.
_CHUNK_UNITS = 1 << 15


def signatures(
    texts: Sequence[str],
    num_perm: int = 128,
    seed: int = 1,
    n: int = 5,
    method: str = "oph",
    tokenizer: str = "char",
    words: Sequence[Sequence[str]] | None = None,
) -> np.ndarray:
    """MinHash signatures of a batch of texts.

    Args:
        texts: NFKC-normalised documents.
        num_perm: Signature length (see ``DedupParams.num_perm``).
        seed: Hash seed; equal seeds give equal signatures.
        n: Shingle length in units.
        method: ``"oph"`` or ``"datasketch"``.
        tokenizer: ``"char"`` or ``"sudachi"``.
        words: Pre-tokenised surfaces per document (``"sudachi"`` only).

    Returns:
        ``uint32`` array of shape ``(len(texts), num_perm)``. Row ``d`` depends
        only on ``texts[d]`` (never on the rest of the batch).

    >>> a, b = signatures(["今日はいい天気ですね。散歩に行こう。", "今日はいい天気ですね。散歩に行こうか。"])
    >>> 0.5 < jaccard_estimate(a, b) < 1.0
    True
    """
    if method == "oph":
        return _oph_signatures(texts, num_perm, seed, n, tokenizer, words)
    if method == "datasketch":
        if tokenizer == "char":
            sh = [shingles(t, n) for t in texts]
        else:
            sh = [shingles(t, n, "sudachi", words[i] if words is not None else None) for i, t in enumerate(texts)]
        return datasketch_signatures(sh, num_perm, seed)
    raise ValueError(f"unknown MinHash method {method!r}")


def jaccard_estimate(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of equal positions of two signatures (estimates Jaccard).

    >>> s = np.arange(4, dtype=np.uint32)
    >>> jaccard_estimate(s, s)
    1.0
    """
    return float(np.count_nonzero(a == b)) / a.shape[-1]


@lru_cache(maxsize=16)
def _probe_table(num_perm: int, seed: int) -> np.ndarray:
    """Probe sequence of optimal densification: table[t, i] = bin tried at attempt t for bin i."""
    t = np.arange(_PROBE_TABLE_ROUNDS, dtype=np.uint64)[:, None]
    i = np.arange(num_perm, dtype=np.uint64)[None, :]
    return _probe(i, t, num_perm, seed)


def _probe(i, t, num_perm: int, seed: int) -> np.ndarray:
    key = (np.asarray(i, dtype=np.uint64) << np.uint64(32)) | np.asarray(t, dtype=np.uint64)
    h = fmix64(key ^ np.uint64((seed * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF))
    return ((h >> np.uint64(32)) * np.uint64(num_perm) >> np.uint64(32)).astype(np.int64)


def _oph_signatures(texts, num_perm, seed, n, tokenizer, words) -> np.ndarray:
    """OPH signatures, computed over sub-batches of about ``_CHUNK_UNITS`` units."""
    out = np.empty((len(texts), num_perm), dtype=np.uint32)
    if not len(texts):
        return out
    if tokenizer == "char":
        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    else:
        if words is None:
            from dedup.shingle import tokenize_words

            words = [tokenize_words(t) for t in texts]
        lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
    ends = np.cumsum(lengths)
    bounds = [0]
    while bounds[-1] < len(texts):
        b = bounds[-1]
        base = ends[b - 1] if b else 0
        bounds.append(max(int(np.searchsorted(ends, base + _CHUNK_UNITS, side="right")), b + 1))
    size = max(int(max(ends[e - 1] - (ends[b - 1] if b else 0) for b, e in zip(bounds, bounds[1:]))), 1)
    # Working buffers shared by all sub-batches (no per-pass allocation).
    work = (np.empty(size, np.uint64), np.empty(size, np.uint64), np.empty(size, np.uint64))
    for b, e in zip(bounds, bounds[1:]):
        units, lens = batch_units(texts[b:e], tokenizer, words[b:e] if words is not None else None)
        out[b:e] = _oph_batch(units, lens, n, seed, num_perm, work)
    return out


def _oph_batch(units, lengths, n: int, seed: int, num_perm: int, work) -> np.ndarray:
    """OPH signatures of one sub-batch from its concatenated units.

    Every window of the concatenation is hashed (:func:`window_hashes`); the
    windows that straddle two documents (the last ``n - 1`` starts of each
    document) are sent to one extra "trash" bin instead of being compacted
    away, which saves a gather over the batch (the trash row is ``num_perm``
    bins after the last document's, discarded at the end).
    """
    n_docs = lengths.shape[0]
    num_perm = int(num_perm)
    trash = n_docs * num_perm
    h = window_hashes(units, n, seed, work[0], work[1])
    w = h.shape[0]
    starts = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    # Bin base of the document each window starts in; invalid windows -> trash row.
    base = np.repeat(np.arange(0, trash, num_perm, dtype=np.int64), lengths)[:w]
    full = lengths >= n
    if n > 1 and w:
        tail = (starts[1:][full][:, None] - np.arange(n - 1, 0, -1)[None, :]).ravel()
        base[tail[tail < w]] = trash
    short = np.flatnonzero(~full & (lengths > 0))
    for d in short:
        base[starts[d] : min(starts[d + 1], w)] = trash
    # High 32 bits pick the bin (multiply-shift range reduction, any num_perm;
    # a plain shift when num_perm is a power of two, same result); the low 32
    # bits are the value to minimise. fmix64 made them independent.
    slot = work[2][:w]
    if num_perm & (num_perm - 1) == 0:
        np.right_shift(h, np.uint64(64 - (num_perm.bit_length() - 1)), out=slot)
    else:
        np.right_shift(h, np.uint64(32), out=slot)
        slot *= np.uint64(num_perm)
        slot >>= np.uint64(32)
    slot = slot.view(np.int64)
    slot += base
    values = h.view(np.uint32)[0::2] if np.little_endian else h.astype(np.uint32)
    sig = np.full(trash + num_perm, EMPTY, dtype=np.uint32)
    np.minimum.at(sig, slot, values)
    extra = []  # bins filled by short documents
    for d in short:
        hv = short_doc_hash(units[starts[d] : starts[d + 1]], n, seed)
        k = int(d) * num_perm + (((hv >> 32) * num_perm) >> 32)
        sig[k] = min(int(sig[k]), hv & 0xFFFFFFFF)
        extra.append(k)
    sig = sig[:trash]
    filled = sig != EMPTY
    if not filled.all():
        # A bin whose minimum is 0xFFFFFFFF is filled though it looks empty.
        filled[extra] = True
        hit = np.flatnonzero(values == EMPTY)
        if hit.size:
            k = slot[hit]
            filled[k[k < trash]] = True
    sig = sig.reshape(n_docs, num_perm)
    _densify(sig, filled.reshape(n_docs, num_perm), lengths > 0, num_perm, seed)
    return sig


def oph_from_hashes(hashes: np.ndarray, offsets: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """One-permutation MinHash with optimal densification over a batch.

    Reference implementation over compacted shingle hashes (as returned by
    :func:`dedup.shingle.shingle_hashes_batch`); ``signatures`` computes the
    same signatures without the compaction.

    Args:
        hashes: uint64 shingle hashes of all documents, concatenated.
        offsets: Document boundaries into ``hashes`` (length docs + 1).
        num_perm: Number of bins (= signature length).
        seed: Seed of the densification probe sequence.

    Returns:
        ``uint32`` signatures of shape ``(docs, num_perm)``.
    """
    n_docs = offsets.shape[0] - 1
    counts = np.diff(offsets)
    slot = hashes >> np.uint64(32)
    slot *= np.uint64(num_perm)
    slot >>= np.uint64(32)
    slot = slot.view(np.int64)
    slot += np.repeat(np.arange(0, n_docs * num_perm, num_perm, dtype=np.int64), counts)
    values = hashes.astype(np.uint32)  # truncation keeps the low 32 bits
    sig = np.full(n_docs * num_perm, EMPTY, dtype=np.uint32)
    np.minimum.at(sig, slot, values)
    filled = np.zeros(n_docs * num_perm, dtype=bool)
    filled[slot] = True
    sig = sig.reshape(n_docs, num_perm)
    filled = filled.reshape(n_docs, num_perm)
    _densify(sig, filled, counts > 0, num_perm, seed)
    return sig


def _densify(sig: np.ndarray, filled: np.ndarray, nonempty: np.ndarray, num_perm: int, seed: int) -> None:
    """Fill empty bins in place: bin i takes the value of the first filled bin
    along its probe sequence (Shrivastava 2017), identical for all documents."""
    todo_d, todo_i = np.nonzero(~filled & nonempty[:, None])
    if todo_d.size == 0:
        return
    table = _probe_table(num_perm, seed)
    for t in range(_PROBE_TABLE_ROUNDS):
        src = table[t, todo_i]
        hit = filled[todo_d, src]
        sig[todo_d[hit], todo_i[hit]] = sig[todo_d[hit], src[hit]]
        todo_d, todo_i = todo_d[~hit], todo_i[~hit]
        if todo_d.size == 0:
            return
    # Very short documents (a handful of filled bins): continue the same probe
    # sequence, 64 attempts at a time for all remaining bins.
    t0 = _PROBE_TABLE_ROUNDS
    while todo_d.size:
        src = _probe(todo_i[:, None], np.arange(t0, t0 + 64)[None, :], num_perm, seed)
        hit = filled[todo_d[:, None], src]
        done = hit.any(axis=1)
        first = src[done, hit[done].argmax(axis=1)]
        sig[todo_d[done], todo_i[done]] = sig[todo_d[done], first]
        todo_d, todo_i = todo_d[~done], todo_i[~done]
        t0 += 64


# --- datasketch-identical mode -------------------------------------------------

_F32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))


def _fmix32(h: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2, s3 = _F32
    h = h ^ (h >> s1)
    h = h * m1
    h = h ^ (h >> s2)
    h = h * m2
    return h ^ (h >> s3)


@lru_cache(maxsize=16)
def _datasketch_permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    # Read the parameters through datasketch's public ``permutations``
    # attribute so both sides provably use the same functions.
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=seed).permutations
    return np.asarray(a, dtype=np.uint32), np.asarray(b, dtype=np.uint32)


def datasketch_signatures(shingle_lists: Sequence[Sequence[str]], num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """Signatures equal to ``datasketch.MinHash(num_perm, seed).update_batch``.

    Args:
        shingle_lists: Shingle strings per document (UTF-8 encoded before hashing,
            as datasketch users do).
        num_perm: Signature length.
        seed: datasketch seed.

    Returns:
        ``uint32`` array ``(docs, num_perm)`` equal to each ``MinHash.hashvalues``.
    """
    a, b = _datasketch_permutations(num_perm, seed)
    sig = np.full((len(shingle_lists), num_perm), EMPTY, dtype=np.uint32)
    for d, sh in enumerate(shingle_lists):
        if not sh:
            continue
        hv = np.fromiter(
            (int.from_bytes(hashlib.sha1(s.encode("utf-8")).digest()[:4], "little") for s in set(sh)),
            dtype=np.uint32,
        )
        hv = _fmix32(hv)
        # Chunk so the (shingles x num_perm) matrix stays under ~8 MB.
        step = max(1, (1 << 21) // num_perm)
        for start in range(0, hv.shape[0], step):
            phv = hv[start : start + step, None] * a[None, :] + b[None, :]
            np.minimum(sig[d], phv.min(axis=0), out=sig[d])
    return sig
