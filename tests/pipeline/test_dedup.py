"""Beam tests of ``pipeline.dedup.Deduplicate`` on the DirectRunner."""

from __future__ import annotations

import itertools
import json
import random
from collections import defaultdict

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to

from dedup.params import DedupParams
from pipeline.dedup import MEMBER_DIGEST, Deduplicate, text_digest
from schemas.records import Doc
from tests.conftest import shared

IN_MEMORY = ["--runner=pipeline.runner.LocalRunner", "--direct_running_mode=in_memory"]
TWO_WORKERS = ["--runner=pipeline.runner.LocalRunner", "--direct_running_mode=multi_processing", "--direct_num_workers=2"]

_KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんがぎぐげござじずぜぞ日本語文章記事今年東京都"


def random_text(rng: random.Random, n: int) -> str:
    """Synthetic Japanese-like text: random characters make 5-gram sets nearly disjoint."""
    return "".join(rng.choice(_KANA) for _ in range(n))


def run_dedup(tmp_path, docs, params, options=IN_MEMORY):
    """Run Deduplicate; return (kept ids, rejects by id, cluster rows, counters)."""
    out = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
    out.mkdir()
    p = beam.Pipeline(options=PipelineOptions(options))
    res = p | "Create" >> beam.Create(docs, reshuffle=False) | "Dedup" >> Deduplicate(params)
    (res["kept"] | "K" >> beam.Map(lambda d: d.id) | "WK" >> beam.io.WriteToText(str(out / "kept")))
    (
        res["rejected"]
        | "R" >> beam.Map(lambda r: json.dumps([r.id, r.stage, r.filter, r.reason, r.dup_of, r.n_chars]))
        | "WR" >> beam.io.WriteToText(str(out / "rej"))
    )
    # Cluster rows also carry their member's text digest (the writer's shard key, not a column).
    (res["clusters"] | "C" >> beam.Map(lambda r: json.dumps({**r, MEMBER_DIGEST: r[MEMBER_DIGEST].hex()}, sort_keys=True))
     | "WC" >> beam.io.WriteToText(str(out / "clu")))
    result = p.run()
    result.wait_until_finish()

    def lines(prefix):
        return [line for f in sorted(out.glob(prefix + "*")) for line in f.read_text().splitlines() if line]

    kept = sorted(lines("kept"))
    rejects = {r[0]: r for r in map(json.loads, lines("rej"))}
    clusters = sorted(map(json.loads, lines("clu")), key=lambda c: (c["cluster_id"], c["doc_id"]))
    for c in clusters:
        assert len(bytes.fromhex(c.pop(MEMBER_DIGEST))) == 8
    counters = defaultdict(int)  # summed over steps (several steps count "clusters")
    for m in result.metrics().query(MetricsFilter().with_namespace("furui.dedup"))["counters"]:
        counters[m.key.metric.name] += m.committed
    return kept, rejects, clusters, counters


def doc(i, text, quality=0.0, crawl_date="2024-01-01"):
    return Doc(id=i, url=f"https://example.jp/{i}", source="test", crawl_date=crawl_date, text=text,
               n_chars=len(text), quality=quality)


def test_exact_near_and_unrelated(tmp_path):
    rng = random.Random(1)
    base = random_text(rng, 2000)
    near = base[:1000] + random_text(rng, 60) + base[1000:1900]  # J ~ 0.85
    docs = [
        doc("a", base, quality=0.5),
        doc("b", base, quality=0.9),  # exact copy with better quality: keeper
        doc("c", near, quality=0.1),
        doc("d", random_text(rng, 2000)),
        doc("e", random_text(rng, 3)),  # shorter than n: still gets a signature
    ]
    kept, rejects, clusters, counters = run_dedup(tmp_path, docs, DedupParams())
    assert kept == ["b", "d", "e"]
    assert rejects["a"][1:5] == ["dedup", "exact_dedup", "exact_duplicate", "b"]
    assert rejects["c"][1:5] == ["dedup", "near_dedup", "near_duplicate", "b"]
    assert rejects["a"][5] == len(base)
    kinds = {(c["kind"], c["doc_id"]): (c["kept"], c["size"], c["cluster_id"]) for c in clusters}
    b = "b:" + text_digest(base)[:8].hex()  # the keeper's id and its text
    assert kinds == {
        ("exact", "a"): (False, 2, f"exact:{b}"),
        ("exact", "b"): (True, 2, f"exact:{b}"),
        ("near", "b"): (True, 2, f"near:{b}"),
        ("near", "c"): (False, 2, f"near:{b}"),
    }
    assert counters["in"] == 5
    assert counters["kept"] + counters["dropped.exact_duplicate"] + counters["dropped.near_duplicate"] == 5
    assert counters["dropped.exact_duplicate"] == 1 and counters["dropped.near_duplicate"] == 1
    assert counters["clusters"] == 2
    assert counters["cc.unconverged"] == 0


def test_clusters_kept_by_texts_under_one_id_are_told_apart(tmp_path):
    """A user's constant id keeps two texts, each with an exact copy under another
    id: two clusters, each with one keeper and its own size (one cluster id
    ``exact:ds`` once held four rows, two of them kept)."""
    rng = random.Random(5)
    a, b = random_text(rng, 1500), random_text(rng, 1500)
    docs = [doc("ds", a, quality=0.9), doc("o1", a, quality=0.5), doc("ds", b, quality=0.9),
            doc("o2", b, quality=0.5), doc("o3", b, quality=0.4)]
    kept, rejects, clusters, counters = run_dedup(tmp_path, docs, DedupParams())
    assert sorted(kept) == ["ds", "ds"] and sorted(rejects) == ["o1", "o2", "o3"]
    by_cluster = defaultdict(list)
    for c in clusters:
        by_cluster[c["cluster_id"]].append((c["doc_id"], c["kept"], c["size"]))
    assert {k: sorted(v) for k, v in by_cluster.items()} == {
        f"exact:ds:{text_digest(a)[:8].hex()}": [("ds", True, 2), ("o1", False, 2)],
        f"exact:ds:{text_digest(b)[:8].hex()}": [("ds", True, 3), ("o2", False, 3), ("o3", False, 3)],
    }


@pytest.mark.parametrize("exact", [True, False])
def test_copies_of_one_text_under_one_id_follow_the_keeper_order(tmp_path, exact):
    """One page crawled twice under a constant id: the copy the keeper order
    prefers (the earlier crawl date) is kept, not the first by source path."""
    rng = random.Random(9)
    text = random_text(rng, 1200)
    late = Doc(id="y", url="https://example.jp/p", source="a.jsonl", crawl_date="2024-01-01", text=text,
               n_chars=len(text), quality=0.5)
    early = late._replace(source="b.jsonl", crawl_date="2020-01-01")
    for docs in ([late, early], [early, late]):
        p = beam.Pipeline(options=PipelineOptions(IN_MEMORY))
        res = p | beam.Create(docs, reshuffle=False) | Deduplicate(DedupParams(exact=exact))
        kept_dates = res["kept"] | "KeptDates" >> beam.Map(lambda d: d.crawl_date)
        rejected = res["rejected"] | "Rejected" >> beam.Map(lambda r: (r.id, r.reason, r.dup_of))
        assert_that(kept_dates, equal_to(["2020-01-01"]), label="kept")
        # Without the exact pass the two copies are one near cluster (README).
        reason = "exact_duplicate" if exact else "near_duplicate"
        assert_that(rejected, equal_to([("y", reason, "y")]), label="rejected")
        p.run().wait_until_finish()


def test_chain_ends_in_one_cluster(tmp_path):
    """A~B, B~C, ..., with the ends far apart (J(A,E) < 0.5): one cluster."""
    rng = random.Random(2)
    stream = random_text(rng, 4000)
    texts = [stream[200 * k : 200 * k + 2000] for k in range(5)]  # consecutive J ~ 0.82
    from tests.dedup.planted import true_jaccard

    assert true_jaccard(texts[0], texts[1]) > 0.8 and true_jaccard(texts[0], texts[4]) < 0.5
    # Ids in a scrambled order so the chain is not sorted by rank.
    ids = ["m", "c", "x", "a", "q"]
    docs = [doc(i, t) for i, t in zip(ids, texts)]
    kept, rejects, clusters, counters = run_dedup(tmp_path, docs, DedupParams(exact=False))
    assert kept == ["a"]
    assert {r[4] for r in rejects.values()} == {"a"}
    assert {c["cluster_id"] for c in clusters} == {f"near:a:{text_digest(texts[3])[:8].hex()}"}
    assert all(c["size"] == 5 for c in clusters)


def test_round_limit_is_detected_and_never_merges_wrongly(tmp_path):
    """With one round a long scrambled chain cannot converge: detected and counted."""
    rng = random.Random(2)
    stream = random_text(rng, 6000)
    texts = [stream[100 * k : 100 * k + 2000] for k in range(12)]  # consecutive J ~ 0.9
    ids = ["m", "c", "x", "a", "q", "k", "b", "z", "f", "r", "d", "w"]
    docs = [doc(i, t) for i, t in zip(ids, texts)]
    kept, rejects, _, counters = run_dedup(tmp_path, docs, DedupParams(exact=False, max_rounds=1))
    assert counters["cc.unconverged"] == 1
    # Unconverged or not, every document leaves exactly once and points at a member
    # of its own chain (an unconverged star may point at an intermediate member,
    # which the warning and the counter make visible).
    assert sorted(kept + list(rejects)) == sorted(ids)
    assert {r[4] for r in rejects.values()} <= set(ids)
    kept_full, rejects_full, _, counters_full = run_dedup(tmp_path, docs, DedupParams(exact=False))
    assert counters_full["cc.unconverged"] == 0 and kept_full == ["a"] and len(rejects_full) == 11


def test_keeper_order_is_configurable(tmp_path):
    rng = random.Random(3)
    t = random_text(rng, 1500)
    docs = [doc("z", t, quality=0.2, crawl_date="2020-01-01"), doc("y", t, quality=0.2, crawl_date=""),
            doc("x", t, quality=0.1, crawl_date="2019-01-01")]
    kept, _, _, _ = run_dedup(tmp_path, docs, DedupParams(near=False))
    assert kept == ["z"]  # highest quality, then earliest date; empty date last
    kept, _, _, _ = run_dedup(tmp_path, docs, DedupParams(near=False, keeper=("crawl_date_asc",)))
    assert kept == ["x"]
    kept, _, _, _ = run_dedup(tmp_path, docs, DedupParams(near=False, keeper=("id_asc",)))
    assert kept == ["x"]
    kept, _, _, _ = run_dedup(tmp_path, docs, DedupParams(near=False, keeper=("crawl_date_desc", "id_asc")))
    assert kept == ["z"]


def _planted_docs(n_families, variants=3, seed=0):
    from tests.dedup.planted import build_corpus

    root = shared("text", "livedoor-news-corpus")
    texts, family = build_corpus(root, n_families, variants=variants, seed=seed)
    rng = random.Random(seed)
    docs = [doc(i, t, quality=round(rng.random(), 3), crawl_date=rng.choice(["", "2012-01-01", "2013-05-05"]))
            for i, t in texts.items()]
    return docs, texts, family


def test_planted_near_duplicates_recall_precision(tmp_path):
    """Recall >= 0.95 on planted pairs with true J >= 0.8; precision >= 0.99 on clustered pairs."""
    from tests.dedup.planted import true_jaccard

    docs, texts, family = _planted_docs(120, variants=3)
    kept, rejects, clusters, counters = run_dedup(tmp_path, docs, DedupParams(exact=False))
    cluster_of = {c["doc_id"]: c["cluster_id"] for c in clusters}
    by_family = defaultdict(list)
    for i, f in family.items():
        by_family[f].append(i)
    truth = [(a, b) for ids in by_family.values() for a, b in itertools.combinations(sorted(ids), 2)
             if true_jaccard(texts[a], texts[b]) >= 0.8]
    found = sum(1 for a, b in truth if a in cluster_of and cluster_of.get(a) == cluster_of.get(b))
    recall = found / len(truth)
    members = defaultdict(list)
    for c in clusters:
        members[c["cluster_id"]].append(c["doc_id"])
    pairs = [(a, b) for m in members.values() for a, b in itertools.combinations(sorted(m), 2)]
    js = [true_jaccard(texts[a], texts[b]) for a, b in pairs]
    precision = sum(j >= 0.5 for j in js) / max(1, len(js))
    print(f"planted: {len(truth)} true pairs, recall={recall:.3f}; {len(pairs)} clustered pairs, "
          f"precision={precision:.4f}, min J={min(js):.3f}")
    assert len(truth) > 100
    assert recall >= 0.95
    assert precision >= 0.99
    assert min(js) >= 0.5
    # Every input ends in exactly one output.
    assert sorted(kept + list(rejects)) == sorted(texts)


@pytest.mark.slow
def test_same_clusters_one_and_two_workers_and_reruns(tmp_path):
    docs, texts, family = _planted_docs(40, variants=2, seed=5)
    docs += [doc("dup-" + d.id, d.text, quality=d.quality) for d in docs[:10]]  # exact copies too
    params = DedupParams()
    first = run_dedup(tmp_path, docs, params)
    again = run_dedup(tmp_path, list(reversed(docs)), params)
    two = run_dedup(tmp_path, docs, params, TWO_WORKERS)
    assert first[2], "expected some clusters"
    assert first[:3] == again[:3]
    assert first[:3] == two[:3]


class _Regrouped:
    """A group's values as a runner hands them over: re-iterable, produced on the
    fly (never a list in this test), counting the passes."""

    def __init__(self, make, n):
        self.make, self.n, self.passes = make, n, 0

    def __iter__(self):  # a pass counts once it reads a value
        self_ = self

        def values():
            self_.passes += 1
            for i in range(self_.n):
                yield self_.make(i)

        return values()


def _traced(fn):
    import tracemalloc

    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def test_exact_group_and_near_cluster_are_streamed_not_held():
    """One boilerplate text repeated millions of times is one exact group, and a
    spam template can be one near cluster of millions: their DoFns read the
    grouped values twice and keep O(1) of them (a list of 200k sketches of
    ~0.8 KB each would be ~160 MB here; billions of pages make it gigabytes)."""
    from pipeline.dedup import Sketch, _Clusters, _ExactDecide

    n = 200_000
    sig, bands = bytes(512), bytes(128)
    group = _Regrouped(lambda i: Sketch((b"r%07d" % ((i * 7919) % n), f"d{(i * 7919) % n:07d}", b"h" * 8),
                                        b"h" * 16, sig, bands), n)
    fn = _ExactDecide()
    fn.setup()
    (kept, losers, rows), peak = _traced(lambda: _count_outputs(fn.process((b"h" * 16, group))))
    # Passes: the keeper, the cluster's size (copies under the keeper's id are not
    # members), the decisions.
    assert group.passes == 3 and peak < 20, peak
    assert kept == ["d0000000"] and losers == n - 1 and rows == n

    children = _Regrouped(lambda i: (b"r%07d" % (i + 1), f"d{i + 1:07d}", b"h" * 8), n)
    fn = _Clusters()
    fn.setup()
    (kept, decisions, rows), peak = _traced(lambda: _count_outputs(
        fn.process(((b"r0000000", "d0000000", b"h" * 8), children))))
    assert children.passes == 2 and peak < 20, peak
    assert decisions == n and rows == n + 1


def _count_outputs(outputs):
    from apache_beam.pvalue import TaggedOutput

    kept, decisions, rows = [], 0, 0
    for out in outputs:
        if isinstance(out, TaggedOutput):
            decisions += out.tag == "decisions"
            rows += out.tag == "clusters"
        elif isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], tuple):
            decisions += 1  # _Clusters' main output: (child id, decision)
        else:
            kept.append(out.rank[1])
    return kept, decisions, rows
