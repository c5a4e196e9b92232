"""Signatures: datasketch-identical mode, OPH accuracy against datasketch, invariants."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict

import numpy as np
import pytest
from datasketch import MinHash

from dedup.minhash import datasketch_signatures, jaccard_estimate, signatures
from dedup.shingle import jaccard, shingle_hashes_batch, shingles
from tests.conftest import shared

SAMPLE = [
    "今日はいい天気ですね。散歩に行きましょう。公園の桜がきれいに咲いています。",
    "今日はいい天気ですね。散歩に行きましょうか。公園の桜がきれいに咲いていました。",
    "がぎぐげご",
    "かきくけこ",
    "短い",
    "",
]


def _datasketch(sh, num_perm=128, seed=1):
    m = MinHash(num_perm=num_perm, seed=seed)
    m.update_batch([s.encode("utf-8") for s in sh])
    return m


@pytest.mark.parametrize("num_perm,seed", [(128, 1), (64, 7)])
def test_datasketch_mode_is_bit_identical(num_perm, seed):
    sigs = signatures(SAMPLE, num_perm=num_perm, seed=seed, method="datasketch")
    for text, sig in zip(SAMPLE, sigs):
        expected = _datasketch(shingles(text, 5), num_perm, seed).hashvalues
        assert np.array_equal(sig, expected.astype(np.uint32)), text


def test_same_seed_same_signature_and_batch_independence():
    a = signatures(SAMPLE, seed=1)
    b = signatures(list(reversed(SAMPLE)), seed=1)[::-1]
    c = np.vstack([signatures([t], seed=1) for t in SAMPLE])
    assert np.array_equal(a, b) and np.array_equal(a, c)
    assert not np.array_equal(a[0], signatures(SAMPLE[:1], seed=2)[0])


def test_dakuten_kept_and_short_documents_get_signatures():
    sig = signatures(SAMPLE)
    assert jaccard_estimate(sig[2], sig[3]) == 0.0  # が != か
    assert (sig[4] != 0xFFFFFFFF).all()  # 2 chars < n: one shingle, densified to all bins
    assert (sig[5] == 0xFFFFFFFF).all()  # empty text: the empty signature
    assert jaccard_estimate(sig[4], signatures(["短い"])[0]) == 1.0


def test_shingle_hashes_match_string_shingles():
    texts = SAMPLE + ["あ" * 10, "abcdefg"]
    h, off = shingle_hashes_batch(texts, n=5)
    for d, t in enumerate(texts):
        assert off[d + 1] - off[d] == len(shingles(t, 5))
        # Equal strings hash equally, different strings differently.
        sh = shingles(t, 5)
        hs = h[off[d] : off[d + 1]].tolist()
        assert len(set(sh)) == len(set(hs))


def test_word_shingles_with_injected_tokens():
    words = [["今日", "は", "いい", "天気", "です", "ね"], ["今日", "は", "いい", "天気", "です", "よ"]]
    sig = signatures(["x", "y"], n=2, tokenizer="sudachi", words=words)
    truth = jaccard(shingles("", 2, "sudachi", words[0]), shingles("", 2, "sudachi", words[1]))
    assert truth == pytest.approx(4 / 6)
    assert abs(jaccard_estimate(sig[0], sig[1]) - truth) < 0.2
    ds = signatures(["x", "y"], n=2, tokenizer="sudachi", words=words, method="datasketch")
    assert np.array_equal(ds[0], _datasketch(shingles("", 2, "sudachi", words[0])).hashvalues.astype(np.uint32))


@pytest.mark.parametrize("num_perm", [128, 256])
def test_oph_estimates_agree_with_datasketch_on_livedoor(num_perm):
    """Mean |OPH - datasketch| within the MinHash standard error 0.5/sqrt(num_perm)."""
    from tests.dedup.planted import build_corpus

    texts, family = build_corpus(shared("text", "livedoor-news-corpus"), 60, variants=3, seed=11)
    ids = sorted(texts)
    by_family = defaultdict(list)
    for i in ids:
        by_family[family[i]].append(i)
    pairs = [p for m in by_family.values() for p in itertools.combinations(m, 2)]
    rng = random.Random(0)
    pairs += [tuple(rng.sample(ids, 2)) for _ in range(100)]  # unrelated pairs (J ~ 0)
    sh = {i: shingles(texts[i], 5) for i in ids}
    oph = dict(zip(ids, signatures([texts[i] for i in ids], num_perm=num_perm)))
    ds = {i: _datasketch(sh[i], num_perm) for i in ids}
    true = np.array([jaccard(sh[a], sh[b]) for a, b in pairs])
    est_oph = np.array([jaccard_estimate(oph[a], oph[b]) for a, b in pairs])
    est_ds = np.array([ds[a].jaccard(ds[b]) for a, b in pairs])
    bound = 0.5 / np.sqrt(num_perm)
    print(f"num_perm={num_perm}: mean|oph-ds|={np.abs(est_oph - est_ds).mean():.4f} "
          f"mean|oph-true|={np.abs(est_oph - true).mean():.4f} mean|ds-true|={np.abs(est_ds - true).mean():.4f} "
          f"bias(oph)={np.mean(est_oph - true):+.4f} bound={bound:.4f}")
    assert true.max() > 0.9 and true.min() < 0.1  # the pairs span the range
    assert np.abs(est_oph - est_ds).mean() <= bound
    assert np.abs(est_oph - true).mean() <= bound
    assert abs(np.mean(est_oph - true)) < 0.01  # no systematic bias


def test_datasketch_helper_accepts_empty_lists():
    sig = datasketch_signatures([[], ["abc"]])
    assert (sig[0] == 0xFFFFFFFF).all() and not (sig[1] == 0xFFFFFFFF).all()


def test_sudachi_word_shingles_of_text_in_four_byte_characters():
    """Emoji and rare kanji take 4 bytes of UTF-8: chunks of 16,000 characters
    reached Sudachi's 49,149-byte limit and the signing step raised."""
    pytest.importorskip("sudachipy")
    for text in ("😀" * 20_000, "あ𠮷" * 12_000):
        words = shingles(text, 1, "sudachi")
        assert "".join(words) == text.replace(" ", "")
        assert signatures([text], n=2, tokenizer="sudachi").shape == (1, 128)


@pytest.mark.slow
def test_sudachi_word_shingles_real_tokenizer():
    pytest.importorskip("sudachipy")
    a = "東京都は今日、新しい交通計画を発表した。来年から運用を始める予定だ。"
    b = "東京都は今日、新しい交通計画を発表しました。来年から運用を始める予定だ。"
    c = "大阪の天気は明日から崩れる見込みで、週末は雨になるでしょう。"
    sig = signatures([a, b, c], n=2, tokenizer="sudachi")
    sh = [shingles(t, 2, "sudachi") for t in (a, b, c)]
    assert "東京\x1f都" in sh[0] or "東京都\x1fは" in sh[0]  # word (not character) shingles
    assert jaccard_estimate(sig[0], sig[1]) > jaccard_estimate(sig[0], sig[2])
    assert abs(jaccard_estimate(sig[0], sig[1]) - jaccard(sh[0], sh[1])) < 0.2


@pytest.mark.parametrize("num_perm,seed,n,chunk_units", [(128, 1, 5, 1 << 15), (100, 3, 5, 7), (64, 7, 3, 40), (16, 2, 1, 5)])
def test_fast_oph_equals_reference_over_compacted_hashes(monkeypatch, num_perm, seed, n, chunk_units):
    """signatures() (trash-row windows, sub-batches by units) == oph_from_hashes(shingle_hashes_batch)."""
    import dedup.minhash as mh

    rng = random.Random(seed)
    alphabet = "あいうえおかきくけこがぎぐ漢字😀abc"
    texts = SAMPLE + ["".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 2, 4, 5, 6, 30, 300])))
                      for _ in range(60)]
    monkeypatch.setattr(mh, "_CHUNK_UNITS", chunk_units)
    fast = signatures(texts, num_perm=num_perm, seed=seed, n=n)
    h, off = shingle_hashes_batch(texts, n=n, seed=seed)
    assert np.array_equal(fast, mh.oph_from_hashes(h, off, num_perm, seed))
    words = [t.split("う") for t in texts]
    fast_w = signatures(texts, num_perm=num_perm, seed=seed, n=n, tokenizer="sudachi", words=words)
    h, off = shingle_hashes_batch(texts, n=n, seed=seed, tokenizer="sudachi", words=words)
    assert np.array_equal(fast_w, mh.oph_from_hashes(h, off, num_perm, seed))


def test_fast_oph_bin_with_all_ones_minimum_counts_as_filled(monkeypatch):
    """A bin whose minimum value is 0xFFFFFFFF is filled, not densified."""
    import dedup.minhash as mh
    import dedup.shingle as sh

    real = sh.window_hashes

    def forced(units, n, seed, out, tmp):
        acc = real(units, n, seed, out, tmp)
        acc |= np.uint64(0xFFFFFFFF)  # every value 0xFFFFFFFF, bins unchanged
        return acc

    texts = ["今日はいい天気ですね。散歩に行きましょう。", "かきくけこさしすせそ"]
    monkeypatch.setattr(mh, "window_hashes", forced)
    fast = signatures(texts, num_perm=64)
    h, off = shingle_hashes_batch(texts)
    h |= np.uint64(0xFFFFFFFF)
    assert np.array_equal(fast, mh.oph_from_hashes(h, off, 64, 1))
