"""Tests of pipeline/write.py's commit of one file (the shard writers are run by
the end-to-end and format tests)."""

from __future__ import annotations

from apache_beam.io.filesystems import FileSystems

from dedup.params import DedupParams
from pipeline import write


def test_two_attempts_of_one_shard_racing_both_commit_and_leave_the_file(tmp_path, monkeypatch):
    """A retry can run while the slow first attempt of the same bundle is still
    going (Dataflow's zombie attempts, speculative execution). Interleave them at
    the worst point: the second attempt commits completely while the first is
    about to rename. With one temp name shared by both, the first rename found
    its temp file gone, deleted the committed shard and failed: no shard at all."""
    real_rename = FileSystems.rename
    calls = []

    def rename(src, dst):
        calls.append(src[0])
        if len(calls) == 1:  # the first attempt, just before its rename
            write.write_atomically(str(tmp_path), "documents/documents-00000-of-00001.parquet", b"same bytes")
        return real_rename(src, dst)

    monkeypatch.setattr(FileSystems, "rename", staticmethod(rename))
    final = write.write_atomically(str(tmp_path), "documents/documents-00000-of-00001.parquet", b"same bytes")
    assert open(final, "rb").read() == b"same bytes"
    assert len(set(calls)) == 2  # each attempt renamed its own temp file
    assert list((tmp_path / write.TMP_DIR).iterdir()) == []


def test_commit_replaces_an_existing_file(tmp_path):
    write.write_atomically(str(tmp_path), "x/a.bin", b"old")
    path = write.write_atomically(str(tmp_path), "x/a.bin", b"new")
    assert open(path, "rb").read() == b"new"


def _docs(n: int, scores: int = 55):
    from schemas.records import Doc

    keys = [f"filter.step{k // 4}.measure{k % 4}" for k in range(scores)]
    for i in range(n):
        text = f"{i}番目の記事です。" * 60
        yield ("doc", Doc(id=f"doc-{(i * 7919) % n:06d}", url=f"https://e.jp/{i}", source="s3://b/x.warc.gz",
                          crawl_date="2024-03-01T00:00:00Z", text=text, lang="ja", lang_score=0.9,
                          n_chars=len(text), quality=0.9, scores={k: i * 0.001 for k in keys}))


class _Regrouped:
    """Re-iterable grouped values built on the fly, as a runner pages them in."""

    def __init__(self, make):
        self.make = make

    def __iter__(self):
        return self.make()


def _dedup_writer(out_dir):
    from pipeline import run as run_mod
    from schemas import documents as documents_schema

    fn = write._WriteDedupShardFn("documents", documents_schema.SCHEMA, str(out_dir), {"config_sha256": "x"},
                                  "zstd", 3, 1 << 40, 64_000_000, run_mod._text_size,
                                  to_row=run_mod._doc_row, stat_keys=lambda d: (), keeper=DedupParams().keeper)
    fn.setup()
    return fn


def test_a_shard_is_sorted_and_the_same_bytes_whatever_the_arrival_order(tmp_path):
    import random

    import pyarrow.parquet as pq

    from pipeline.dedup import text_digest

    items = list(_docs(3000))
    (loser,) = [d for _, d in items if d.id == "doc-000007"]
    items.append(("decision", ("doc-000007", ("near_duplicate", "doc-000001", 2, text_digest(loser.text)[:8],
                                              b"k" * 8))))
    shuffled = items[:]
    random.Random(5).shuffle(shuffled)
    digests = []
    for k, group in enumerate((items, shuffled)):
        fn = _dedup_writer(tmp_path / f"o{k}")
        outs = list(fn.process((0, group), (3000, 1)))
        (path,) = [o for o in outs if isinstance(o, str)]
        digests.append(open(path, "rb").read())
        ids = pq.read_table(path, columns=["id"])["id"].to_pylist()
        assert ids == sorted(ids) and len(ids) == 2999 and "doc-000007" not in ids
    assert digests[0] == digests[1]


def test_a_shard_writer_holds_arrow_columns_not_python_rows(tmp_path):
    """The writer reads its documents in two passes and converts them to Arrow a
    batch at a time: Python-side memory stays at one batch of rows whatever the
    shard's size (a list of row dicts with ~55 scores each took ~20 KB a row, 6-8x
    the shard's estimated size; bench/bench_write.py)."""
    import tracemalloc

    fn = _dedup_writer(tmp_path)
    group = _Regrouped(lambda: _docs(6000))
    tracemalloc.start()
    outs = list(fn.process((0, group), (6000, 1)))
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    assert len([o for o in outs if isinstance(o, str)]) == 1
    assert peak < 25, peak  # 106 MB when the writer held every row as a dict


def test_rows_that_share_an_id_are_ordered_by_value_and_only_they_leave_arrow():
    """Repeated ids (one file under two paths, a user's JSONL ids) are ordered by all
    their values, whatever the arrival order, without turning the shard into Python
    rows (a first version did, for the whole shard, as soon as one id repeated)."""
    import random
    import tracemalloc

    from pipeline import run as run_mod
    from schemas import rejects as rejects_schema

    def rows():
        for i in range(20000):
            yield {"id": f"r{i:06d}" if i % 5000 else "same", "url": f"https://e.jp/{i}", "source": "s",
                   "stage": "filter", "filter": "length", "reason": "too_short", "detail": f"{i}",
                   "scores": [{"key": "length.chars", "value": float(i)}], "dup_of": "", "n_chars": i}

    orders = []
    for seed in (1, 2):
        shuffled = list(rows())
        random.Random(seed).shuffle(shuffled)
        builder = write._TableBuilder(rejects_schema.SCHEMA, run_mod._small_size)
        for r in shuffled:
            builder.add(r)
        tracemalloc.start()
        table = builder.table()
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        assert peak < 5, peak  # ~25 MB of row dicts when the whole shard went through Python
        orders.append(table.to_pylist())
    assert orders[0] == orders[1]
    ids = [r["id"] for r in orders[0]]
    assert ids == sorted(ids) and ids.count("same") == 4
    assert [r["detail"] for r in orders[0] if r["id"] == "same"] == ["0", "10000", "15000", "5000"]


def test_copies_of_one_text_under_one_id_are_routed_without_being_held(tmp_path):
    """Copies of one record (same id, same text: a line repeated in a file, a file
    under many paths) meet in one shard. One is kept, the first by (source, url,
    date), and the others leave as its exact duplicates as they come: the writer
    does not hold them (it held every document of a repeated id in a list)."""
    import random
    import tracemalloc

    from schemas.records import Doc, Reject

    text = "同じ本文です。" * 400

    def copies():
        for i in range(4000):
            # Each its own string, as a runner decodes them (one shared object would
            # let a writer that held every copy pass: a review caught that).
            yield ("doc", Doc(id="same", url=f"https://e.jp/{i:05d}", source=f"s3://b/{i % 7}.jsonl",
                              crawl_date="", text=(text + "x")[:-1], n_chars=len(text)))

    fn = _dedup_writer(tmp_path / "a")
    tracemalloc.start()
    outs = list(fn.process((0, _Regrouped(copies)), (4000, 1)))
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    rejects = [o.value for o in outs if getattr(o, "tag", None) == "rejected"]
    assert len(rejects) == 3999 and all(isinstance(r, Reject) for r in rejects)
    assert {(r.reason, r.dup_of, r.scores["dedup.cluster_size"]) for r in rejects} == {
        ("exact_duplicate", "same", 4000.0)}
    (path,) = [o for o in outs if isinstance(o, str)]
    import pyarrow.parquet as pq

    (kept,) = pq.read_table(path, columns=["url", "source"]).to_pylist()
    assert kept == {"url": "https://e.jp/00000", "source": "s3://b/0.jsonl"}
    assert peak < 12, peak  # the 4,000 copies are ~34 MB of text

    # Copies alike in source, URL and date (a line twice in one file) but not in
    # everything: the same one is kept whatever the arrival order.
    alike = [Doc(id="x", url="u", source="s", crawl_date="", text="t", charset=c) for c in ("b", "a", "c")]
    kept = set()
    for seed in range(4):
        items = [("doc", d) for d in alike]
        random.Random(seed).shuffle(items)
        outs = list(_dedup_writer(tmp_path / f"t{seed}").process((0, items), (3, 1)))
        assert len([o for o in outs if getattr(o, "tag", None) == "rejected"]) == 2
        (path,) = [o for o in outs if isinstance(o, str)]
        kept.add(pq.read_table(path, columns=["charset"])["charset"][0].as_py())
    assert kept == {"a"}
