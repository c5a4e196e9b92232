"""End to end on the bundled sample: the README's first command, checked.

The sample's contents are documented record by record in scripts/README_sample.md;
these tests hold the pipeline to that description. The run uses the CLI default
runner (LocalRunner: Beam's FnApiRunner, multi-processing, one worker per CPU); a second run on the
in-process runner must give byte-identical shards.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from pipeline.run import run

REPO = Path(__file__).resolve().parents[1]
SPAM_AND_LOW_QUALITY = {
    "https://link-shuu.example.org/links.html",
    "https://matome-ad.example.net/entry/1.html",
    "https://repeat.example.org/sale.html",
    "https://super-yasui.example.net/index.html",
    "https://tiny.example.org/",
}
OTHER_LANGUAGES = {
    "https://world-en.example.com/community-garden.html",
    "https://world-ko.example.com/bakery.html",
    "https://world-zh.example.com/tea-house.html",
}


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "out"
    assert main(["run", "--output", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def sample_run_in_memory(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample-mem") / "out"
    assert run(["--output", str(out), "--direct_running_mode=in_memory", "--direct_num_workers=1"]) == 0
    return out


def rows(out: Path, kind: str) -> list[dict]:
    return pq.read_table(out / kind).to_pylist()


def test_outputs_exist_and_account_for_every_record(sample_run):
    stats = json.loads((sample_run / "stats.json").read_text())
    assert stats["records_in"] == 53
    assert stats["accounted"] is True
    docs, rejects = rows(sample_run, "documents"), rows(sample_run, "rejects")
    assert len(docs) == stats["documents_out"] and len(rejects) == stats["rejected"]
    assert len(docs) + len(rejects) == 53
    assert len({r["id"] for r in docs} | {r["id"] for r in rejects}) == 53  # each record leaves once
    for name in ("_SUCCESS", "config.toml", "stats.parquet", "README.md"):
        assert (sample_run / name).exists(), name
    assert not (sample_run / ".furui-tmp").exists()


def test_stats_and_card_give_the_volume_and_dates_of_what_was_kept(sample_run):
    """What a data engineer sizes a dataset by: characters, tokens and capture dates of
    the documents kept, in stats.json (summed by the stats combiner) and on the card,
    equal to the documents' own columns; and a licence left at the default is said."""
    from pipeline.report import crawl_month

    stats = json.loads((sample_run / "stats.json").read_text())
    docs = rows(sample_run, "documents")
    assert stats["totals"] == {"chars": sum(d["n_chars"] for d in docs), "tokens": sum(d["n_tokens"] for d in docs)}
    assert stats["totals"]["tokens"] > 0
    assert stats["crawl_months"] == dict(collections.Counter(crawl_month(d["crawl_date"]) for d in docs))
    card = (sample_run / "README.md").read_text()
    assert f"| Characters | {stats['totals']['chars']:,} |" in card
    assert f"| Sudachi tokens | {stats['totals']['tokens']:,} |" in card
    assert "| Crawl dates | 2024-05 |" in card
    assert "| License | other (furui's default: no licence named; see License) |" in card
    assert "`quality` is language ID's probability of a wanted language" in card


def test_stats_and_card_give_the_hosts_of_what_was_kept(sample_run):
    """Which sites a dataset is made of: stats.json's hosts (summed and ranked by two
    combines) match the documents' own URLs, and the card lists them."""
    from pipeline.report import host_of

    stats = json.loads((sample_run / "stats.json").read_text())
    docs = rows(sample_run, "documents")
    per_host = collections.defaultdict(lambda: [0, 0])
    for d in docs:
        per_host[host_of(d["url"])][0] += 1
        per_host[host_of(d["url"])][1] += d["n_chars"]
    assert "" not in per_host and len(per_host) >= 3
    ranked = sorted(per_host.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    assert stats["hosts"] == {
        "distinct": len(per_host),
        "top": [{"host": h, "documents": n, "chars": c} for h, (n, c) in ranked],
        "without_host": {"documents": 0, "chars": 0},
    }
    card = (sample_run / "README.md").read_text()
    assert f"| Hosts | {len(per_host)} |" in card
    host, (n, c) = ranked[0]
    assert f"| `{host}` | {n} | {100 * n / len(docs):.1f}% | {c:,} |" in card


def test_read_stage_matches_the_sample_description(sample_run):
    read = collections.Counter(r["reason"] for r in rows(sample_run, "rejects") if r["stage"] == "read")
    assert read == {"not_response": 11, "not_html": 2, "http_status": 1, "truncated": 1}


def test_other_languages_spam_and_low_quality_are_rejected(sample_run):
    rejects = {r["url"]: r for r in rows(sample_run, "rejects")}
    for url in OTHER_LANGUAGES:
        assert (rejects[url]["stage"], rejects[url]["reason"]) == ("langid", "wrong_language")
        assert rejects[url]["detail"].startswith("detected ") and "detected ja" not in rejects[url]["detail"]
    for url in SPAM_AND_LOW_QUALITY:
        assert rejects[url]["stage"] == "filter", url


def test_duplicates_are_removed_with_their_keeper(sample_run):
    docs = {r["id"]: r for r in rows(sample_run, "documents")}
    dups = [r for r in rows(sample_run, "rejects") if r["stage"] == "dedup"]
    assert collections.Counter(r["reason"] for r in dups) == {"exact_duplicate": 1, "near_duplicate": 3}
    for r in dups:
        assert r["dup_of"] in docs, r  # the keeper is in the output
    exact = [r for r in dups if r["reason"] == "exact_duplicate"][0]
    assert "utm_source" in exact["url"] and docs[exact["dup_of"]]["url"] == exact["url"].split("?")[0]
    clusters = rows(sample_run, "clusters")
    kept_in_clusters = {c["doc_id"] for c in clusters if c["kept"]}
    assert {r["dup_of"] for r in dups} <= kept_in_clusters


def test_every_japanese_article_is_kept_once(sample_run):
    docs = rows(sample_run, "documents")
    assert len(docs) == 26
    assert all(d["lang"] == "ja" and d["lang_score"] >= 0.5 for d in docs)
    assert not any("/repost/" in d["url"] or "utm_source" in d["url"] for d in docs)
    # Charset variety decoded cleanly (Shift_JIS, EUC-JP, ISO-2022-JP, undeclared).
    assert {"cp932", "euc_jp", "iso2022_jp_2"} <= {d["charset"] for d in docs}
    assert not any("\ufffd" in d["text"] for d in docs)


def test_pii_is_redacted_and_counted(sample_run):
    docs = rows(sample_run, "documents")
    text = "\n".join(d["text"] for d in docs)
    assert "<EMAIL>" in text and "<PHONE>" in text
    assert "@example.jp" not in text and "03-1234-5678" not in text
    stats = json.loads((sample_run / "stats.json").read_text())
    assert stats["pii"]["email"] >= 1 and stats["pii"]["phone"] >= 1


def test_runners_and_worker_counts_give_byte_identical_shards(sample_run, sample_run_in_memory):
    for kind in ("documents", "rejects", "clusters"):
        a = sorted((sample_run / kind).iterdir())
        b = sorted((sample_run_in_memory / kind).iterdir())
        assert [p.name for p in a] == [p.name for p in b]
        for x, y in zip(a, b):
            assert x.read_bytes() == y.read_bytes(), x.name


def test_rerun_replaces_previous_output(sample_run_in_memory, tmp_path):
    out = tmp_path / "again"
    assert run(["--output", str(out), "--direct_running_mode=in_memory"]) == 0
    first = (out / "documents").iterdir().__next__().read_bytes()
    assert run(["--output", str(out), "--direct_running_mode=in_memory"]) == 0
    files = list((out / "documents").iterdir())
    assert len(files) == 1 and files[0].read_bytes() == first


def test_run_that_keeps_nothing_still_writes_one_empty_shard_per_output(tmp_path):
    """Every record rejected: each Parquet output still has exactly one (empty) shard
    with its schema, so readers of the run find a file, and every record is accounted."""
    from schemas import clusters, documents

    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"url": "https://en.example.org/a", "text": "An English page about gardening. " * 30}) + "\n"
        + json.dumps({"url": "https://empty.example.org/", "text": ""}) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert run([str(src), "--output", str(out), "--direct_running_mode=in_memory"]) == 0
    for kind, schema in (("documents", documents.SCHEMA), ("clusters", clusters.SCHEMA)):
        files = sorted((out / kind).iterdir())
        assert len(files) == 1, (kind, files)
        table = pq.read_table(files[0])
        assert table.num_rows == 0 and table.schema.equals(schema, check_metadata=False)
    stats = json.loads((out / "stats.json").read_text())
    assert stats["records_in"] == 2 and stats["documents_out"] == 0
    assert len(rows(out, "rejects")) == 2


def test_small_shards_write_every_index_of_n(sample_run_in_memory, tmp_path):
    """With many small shards some indexes get no row; they are still written (empty),
    so "-of-N" always means N files and a reader can check a run is complete."""
    import re

    cfg = tmp_path / "small.toml"
    cfg.write_text((REPO / "pipeline" / "configs" / "default.toml").read_text()
                   .replace("shard_bytes = 256_000_000", "shard_bytes = 5_000", 1))
    out = tmp_path / "out"
    assert run(["--output", str(out), "--config", str(cfg), "--direct_running_mode=in_memory"]) == 0
    for kind in ("documents", "rejects", "clusters"):
        names = sorted(p.name for p in (out / kind).iterdir())
        (count,) = {int(re.search(r"-of-(\d+)\.parquet$", n).group(1)) for n in names}
        assert names == [f"{kind}-{i:05d}-of-{count:05d}.parquet" for i in range(count)], kind
    assert len(list((out / "documents").iterdir())) > 2
    empty = [p for p in (out / "documents").iterdir() if pq.read_metadata(p).num_rows == 0]
    assert empty, "the sample at 5 KB shards leaves some index empty: the case under test"
    # Same documents as the one-shard run, in more files.
    key = lambda r: r["id"]  # noqa: E731
    assert sorted(rows(out, "documents"), key=key) == sorted(rows(sample_run_in_memory, "documents"), key=key)


def _run_in_both_modes(tmp_path: Path):
    """Runs the JSONL files under ``tmp_path/in/*/`` in process and on two worker
    processes; yields each output directory once its run succeeded."""
    for i, mode in enumerate(["--direct_running_mode=in_memory", "--direct_running_mode=multi_processing"]):
        out = tmp_path / f"out{i}"
        assert run([str(tmp_path / "in" / "*" / "*.jsonl"), "--output", str(out), mode,
                    "--direct_num_workers=2"]) == 0
        yield out


def _kept_texts(out: Path, n: int) -> list[str]:
    # Texts that passed every filter once (and carry no PII token) pass again.
    texts = sorted(r["text"] for r in rows(out, "documents") if "<" not in r["text"])
    assert len(texts) >= n
    return texts[:n]


def _jsonl(path: Path, *objs: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs), encoding="utf-8")


def test_a_page_crawled_twice_under_one_id_keeps_its_earliest_capture(sample_run_in_memory, tmp_path):
    """The writer, not only the dedup join, picks among copies of one text under
    one id by the keeper order: the earlier crawl date, though its file sorts last."""
    (t1,) = _kept_texts(sample_run_in_memory, 1)
    _jsonl(tmp_path / "in" / "a" / "p.jsonl", {"id": "page", "url": "https://e.example.jp/p", "text": t1,
                                              "date": "2024-05-01T00:00:00Z"})
    _jsonl(tmp_path / "in" / "b" / "p.jsonl", {"id": "page", "url": "https://e.example.jp/p", "text": t1,
                                              "date": "2019-05-01T00:00:00Z"})
    for out in _run_in_both_modes(tmp_path):
        (kept,) = rows(out, "documents")
        assert (kept["id"], kept["crawl_date"], kept["source"].split("/in/")[1]) == (
            "page", "2019-05-01T00:00:00Z", "b/p.jsonl")
        (reject,) = rows(out, "rejects")
        assert (reject["reason"], reject["dup_of"], reject["source"].split("/in/")[1]) == (
            "exact_duplicate", "page", "a/p.jsonl")


def test_same_file_name_in_two_directories_gives_different_ids(sample_run_in_memory, tmp_path):
    """Ids of records without their own come from the whole path: two part.jsonl files
    in different directories must not share ids, or the dedup decision against one
    document's id would also remove the other (a unique document lost as a duplicate)."""
    t1, t2 = _kept_texts(sample_run_in_memory, 2)
    _jsonl(tmp_path / "in" / "a" / "part.jsonl", {"url": "https://a.example.jp/1", "text": t1})
    _jsonl(tmp_path / "in" / "b" / "part.jsonl", {"url": "https://b.example.jp/1", "text": t2})
    _jsonl(tmp_path / "in" / "c" / "other.jsonl", {"url": "https://c.example.jp/1", "text": t2})
    out = tmp_path / "out"
    assert run([str(tmp_path / "in" / "*" / "*.jsonl"), "--output", str(out),
                "--direct_running_mode=in_memory", "--direct_num_workers=1"]) == 0
    docs = rows(out, "documents")
    assert sorted(d["text"] for d in docs) == sorted([t1, t2])
    assert len({d["id"] for d in docs}) == 2
    stats = json.loads((out / "stats.json").read_text())
    assert stats["accounted"] and stats["duplicate_ids"] == 0
    (reject,) = rows(out, "rejects")
    assert reject["reason"] == "exact_duplicate"
    assert {reject["url"], *(d["url"] for d in docs)} == {
        "https://a.example.jp/1", "https://b.example.jp/1", "https://c.example.jp/1"}


def test_repeated_user_ids_are_counted_and_written_in_one_order(sample_run_in_memory, tmp_path, capsys):
    """JSONL ids are the user's; when two files repeat one, the run says so
    (stats.json duplicate_ids, a warning line) and its shards do not depend on
    the order the shuffle delivered the two documents in."""
    t1, t2 = _kept_texts(sample_run_in_memory, 2)
    _jsonl(tmp_path / "in" / "x" / "p.jsonl", {"id": "doc-1", "url": "https://x.example.jp/", "text": t1})
    _jsonl(tmp_path / "in" / "y" / "p.jsonl", {"id": "doc-1", "url": "https://y.example.jp/", "text": t2})
    digests = set()
    for out in _run_in_both_modes(tmp_path):
        stats = json.loads((out / "stats.json").read_text())
        assert stats["duplicate_ids"] == 1 and stats["documents_out"] == 2 and stats["accounted"]
        assert "WARNING: 1 documents repeat another document's id" in capsys.readouterr().out
        (shard,) = (out / "documents").iterdir()
        digests.add(pq.read_table(shard).to_pandas()[["id", "url", "text"]].to_json())
    assert len(digests) == 1


def test_lone_surrogates_in_json_and_non_utf8_file_names_are_read_not_fatal(sample_run_in_memory, tmp_path):
    """A JSON escape of a lone surrogate in an id, URL or date, and a file name that
    is not UTF-8 (Shift_JIS-named files from old archives), reach Python as lone
    surrogates, which Beam's coders and Arrow refuse: one such record used to fail
    its bundle on every retry, and the job. They are read: the JSON strings with
    U+FFFD in place of the surrogates, the file under its name with its bytes escaped."""
    t1, t2 = _kept_texts(sample_run_in_memory, 2)
    _jsonl(tmp_path / "in" / "a" / "p.jsonl", {"id": "k", "url": "https://a.example.jp/", "text": t1})
    line = json.dumps({"id": "\ud800", "url": "https://a.example.jp/\udc80", "date": "2024\udfff", "text": t2})
    assert "\\ud800" in line  # json.dumps escapes it; json.loads gives the lone surrogate back
    (tmp_path / "in" / "a" / "p.jsonl").open("a", encoding="utf-8").write(line + "\n")
    # The same first text again, in a file named in Shift_JIS ("日本.jsonl"): the
    # name's bytes are not UTF-8, so os gives it with surrogateescape.
    bad_name = os.path.join(os.fsencode(tmp_path / "in" / "b"), "日本.jsonl".encode("shift_jis"))
    os.makedirs(os.path.dirname(bad_name))
    with open(bad_name, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"url": "https://b.example.jp/", "text": t1 + "\n追記の一文がここにあります。"}) + "\n")
    for out in _run_in_both_modes(tmp_path):
        stats = json.loads((out / "stats.json").read_text())
        assert stats["records_in"] == 3 and stats["accounted"], stats["funnel"]
        docs = {r["url"]: r for r in rows(out, "documents")}
        gone = {r["url"]: r for r in rows(out, "rejects")}
        both = {**docs, **gone}
        assert set(both) == {"https://a.example.jp/", "https://a.example.jp/\ufffd", "https://b.example.jp/"}
        odd = docs["https://a.example.jp/\ufffd"]  # t2 is a kept text: nothing else stops it
        assert odd["id"] == "\ufffd" and odd["crawl_date"] == "2024\ufffd"
        # Its bytes escaped (a name shown with U+FFFD would collide with other names).
        assert both["https://b.example.jp/"]["source"].endswith("/in/b/\\x93\\xfa\\x96{.jsonl")


def test_the_same_file_given_twice_keeps_one_copy_of_each_record(sample_run_in_memory, tmp_path):
    """One file under two paths (a copy, or x.jsonl next to x.jsonl.gz): its records
    share ids, so dedup cannot tell them apart by id; the writer keeps one copy of
    each (same id, same text) and rejects the other as an exact duplicate."""
    t1, t2 = _kept_texts(sample_run_in_memory, 2)
    lines = [{"id": "a", "url": "https://e.example.jp/a", "text": t1},
             {"id": "b", "url": "https://e.example.jp/b", "text": t2}]
    _jsonl(tmp_path / "in" / "x" / "p.jsonl", *lines)
    _jsonl(tmp_path / "in" / "y" / "p.jsonl", *lines)
    out = tmp_path / "out"
    assert run([str(tmp_path / "in" / "*" / "*.jsonl"), "--output", str(out),
                "--direct_running_mode=in_memory", "--direct_num_workers=1"]) == 0
    docs = rows(out, "documents")
    assert sorted((d["id"], d["text"]) for d in docs) == [("a", t1), ("b", t2)]
    assert all("/x/" in d["source"] for d in docs)  # the first by source, on every run
    rejects = rows(out, "rejects")
    assert sorted((r["id"], r["reason"], r["dup_of"]) for r in rejects) == [
        ("a", "exact_duplicate", "a"), ("b", "exact_duplicate", "b")]
    stats = json.loads((out / "stats.json").read_text())
    assert stats["accounted"] and stats["duplicate_ids"] == 2 and stats["documents_out"] == 2


def test_repeated_id_on_near_duplicate_texts_keeps_exactly_one(sample_run_in_memory, tmp_path):
    """Two versions of one page under one user id (two crawl dates) are two dedup
    nodes: the keeper order picks one, the other is its near duplicate, never both
    kept nor both dropped, and the same one on two runners."""
    (t1,) = _kept_texts(sample_run_in_memory, 1)
    t2 = t1[: len(t1) // 2] + "ここは二回目の取得で書き換えられた一文です。" + t1[len(t1) // 2:]
    _jsonl(tmp_path / "in" / "x" / "p.jsonl",
           {"id": "page-1", "url": "https://e.example.jp/", "text": t1, "date": "2024-01-01T00:00:00Z"})
    _jsonl(tmp_path / "in" / "y" / "p.jsonl",
           {"id": "page-1", "url": "https://e.example.jp/", "text": t2, "date": "2024-06-01T00:00:00Z"})
    kept = set()
    for out in _run_in_both_modes(tmp_path):
        (doc,) = rows(out, "documents")
        (reject,) = rows(out, "rejects")
        assert doc["text"] in (t1, t2)
        assert doc["source"] != reject["source"]
        assert (reject["id"], reject["reason"], reject["dup_of"]) == ("page-1", "near_duplicate", "page-1")
        stats = json.loads((out / "stats.json").read_text())
        assert stats["accounted"] and stats["duplicate_ids"] == 1
        kept.add(doc["source"])
    assert len(kept) == 1


def test_a_constant_jsonl_id_is_no_hot_key(sample_run_in_memory, tmp_path):
    """A JSONL ``id`` field that is a constant (a dataset name) put every document
    under one key: one writer shard and one site-boilerplate join group held them
    all, so a large run of such a file could not fit one worker. Documents now
    meet on their id and text digest: they spread over the shards as unique ids
    do, each text is kept or dropped on its own, and only copies of one text under
    the id meet (a line twice in one file, a file under two paths), one of them
    kept: the first by source, the same on both runners."""
    import re

    from pipeline.dedup import shard_key
    from pipeline.run import _reject_shard_key
    from pipeline.write import shard_of

    texts = _kept_texts(sample_run_in_memory, 12)
    lines = [{"id": "corpus", "url": f"https://e.example.jp/{i}", "text": t} for i, t in enumerate(texts)]
    lines.append(dict(lines[0]))  # the same line twice in one file
    lines.append({"id": "corpus", "url": "https://e.example.jp/short", "text": "短い。"})
    _jsonl(tmp_path / "in" / "x" / "p.jsonl", *lines)
    _jsonl(tmp_path / "in" / "y" / "p.jsonl", *lines[:3])  # part of the file again, under another path
    cfg = tmp_path / "small.toml"
    cfg.write_text((REPO / "pipeline" / "configs" / "default.toml").read_text()
                   .replace("shard_bytes = 256_000_000", "shard_bytes = 2_000", 1))
    written = set()
    for i, mode in enumerate(["--direct_running_mode=in_memory", "--direct_running_mode=multi_processing"]):
        out = tmp_path / f"out{i}"
        assert run([str(tmp_path / "in" / "*" / "*.jsonl"), "--output", str(out), "--config", str(cfg), mode,
                    "--direct_num_workers=2"]) == 0
        stats = json.loads((out / "stats.json").read_text())
        assert stats["records_in"] == 17 and stats["accounted"], stats["funnel"]
        assert stats["documents_out"] == 12 and stats["duplicate_ids"] == 11 + 1 + 3  # every copy beyond one
        docs = rows(out, "documents")
        assert sorted(d["text"] for d in docs) == sorted(texts)
        assert all("/x/" in d["source"] for d in docs)
        rejects = rows(out, "rejects")
        dups = sorted((r["url"], r["source"].split("/")[-2], r["dup_of"]) for r in rejects
                      if r["reason"] == "exact_duplicate")
        assert dups == [("https://e.example.jp/0", "x", "corpus"), ("https://e.example.jp/0", "y", "corpus"),
                        ("https://e.example.jp/1", "y", "corpus"), ("https://e.example.jp/2", "y", "corpus")]
        assert len(rejects) == 5
        filled = 0
        for kind, key in (("documents", lambda r: shard_key(r["id"], r["text"])),
                          ("rejects", _reject_shard_key)):
            for path in sorted((out / kind).iterdir()):
                index, count = map(int, re.search(r"-(\d+)-of-(\d+)\.parquet$", path.name).groups())
                shard = pq.read_table(path).to_pylist()
                assert all(shard_of(key(r), count) == index for r in shard), (kind, path.name)
                filled += kind == "documents" and bool(shard)
        assert filled > 2  # one id, many shards
        written.add(json.dumps(sorted(json.dumps(d, sort_keys=True, default=str) for d in docs)))
    assert len(written) == 1


def test_a_corpus_of_few_ids_and_many_copies_keeps_each_text_once(sample_run_in_memory, tmp_path):
    """A property check of dedup and the writer under heavy id repetition: 120 lines
    over three files, ids drawn from 4, texts from 10 kept texts and 5 near-duplicate
    edits of them (so copies of one text under one id, texts shared across ids, and
    near duplicates under one id all occur). Every line leaves once; no two kept
    documents share a text; each exact duplicate names the keeper of its text (kept,
    or itself a near duplicate); each near duplicate names a kept document; both
    runners write the same bytes."""
    import hashlib
    import random

    rng = random.Random(5)
    base = _kept_texts(sample_run_in_memory, 10)
    edits = [t[: len(t) // 2] + "ここは二回目の取得で書き換えられた一文です。" + t[len(t) // 2:] for t in base[:5]]
    texts = base + edits
    for name in ("a", "b", "c"):
        _jsonl(tmp_path / "in" / name / "p.jsonl", *(
            {"id": f"id{rng.randrange(4)}", "url": f"https://e.example.jp/{rng.randrange(30)}",
             "text": rng.choice(texts), "date": f"2024-0{rng.randrange(1, 4)}-01T00:00:00Z"} for _ in range(40)))
    written = []
    for out in _run_in_both_modes(tmp_path):
        stats = json.loads((out / "stats.json").read_text())
        assert stats["records_in"] == 120 and stats["accounted"], stats["funnel"]
        docs, rejects = rows(out, "documents"), rows(out, "rejects")
        assert len(docs) + len(rejects) == 120
        kept_texts = [d["text"] for d in docs]
        assert len(set(kept_texts)) == len(kept_texts)  # exact dedup: one copy of each text
        kept_ids_by_text = {d["text"]: d["id"] for d in docs}
        # dup_of names the keeper: of a near cluster, a kept document; of an exact group,
        # a kept document of the same text, or that group's keeper dropped in turn as a
        # near duplicate (then its own dup_of names the kept one).
        kept = {(d["id"], d["n_chars"]) for d in docs}
        near = {(r["id"], r["n_chars"]) for r in rejects if r["reason"] == "near_duplicate"}
        for r in rejects:
            assert r["reason"] in ("exact_duplicate", "near_duplicate"), r
            if r["reason"] == "near_duplicate":
                assert r["dup_of"] in {d["id"] for d in docs}, r
            else:
                assert (r["dup_of"], r["n_chars"]) in kept | near, r
        # Each of the 15 texts is kept once or is a near duplicate of a kept one.
        assert set(kept_texts) <= set(texts) and len(kept_texts) >= 10
        assert stats["duplicate_ids"] == 120 - 4
        written.append({kind: sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in (out / kind).iterdir())
                        for kind in ("documents", "rejects", "clusters")})
        assert kept_ids_by_text  # the check above ran on a non-empty output
    assert written[0] == written[1]


def test_texts_sharing_an_id_are_deduplicated_each_on_its_own(sample_run_in_memory, tmp_path):
    """Two different texts under one user id are two dedup nodes: the one that
    near-duplicates another document goes, the unrelated one stays, on every run.
    (As one node they shared one decision, which rejected both, and verification
    used whichever of their two signatures the shuffle delivered first.)"""
    from pipeline.dedup import text_digest

    t1, t2 = _kept_texts(sample_run_in_memory, 2)
    edited = t1[: len(t1) // 2] + "ここは二回目の取得で書き換えられた一文です。" + t1[len(t1) // 2:]
    _jsonl(tmp_path / "in" / "x" / "p.jsonl", {"id": "k", "url": "https://e.example.jp/k", "text": t1},
           {"id": "same", "url": "https://e.example.jp/a", "text": t2})
    _jsonl(tmp_path / "in" / "y" / "p.jsonl", {"id": "same", "url": "https://e.example.jp/b", "text": edited})
    seen = set()
    for out in _run_in_both_modes(tmp_path):
        assert sorted((d["id"], d["text"]) for d in rows(out, "documents")) == [("k", t1), ("same", t2)]
        (reject,) = rows(out, "rejects")
        assert (reject["id"], reject["url"], reject["reason"], reject["dup_of"]) == (
            "same", "https://e.example.jp/b", "near_duplicate", "k")
        clusters = sorted((r["cluster_id"], r["doc_id"], r["kept"], r["size"]) for r in rows(out, "clusters"))
        cid = "near:k:" + text_digest(t1)[:8].hex()
        assert clusters == [(cid, "k", True, 2), (cid, "same", False, 2)]
        stats = json.loads((out / "stats.json").read_text())
        assert stats["accounted"] and stats["duplicate_ids"] == 1
        seen.add(json.dumps([sorted(d.items()) for d in rows(out, "documents")], default=str))
    assert len(seen) == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "/nonexistent/*.warc.gz", "--output", "OUT"], "input not found"),
        (["run", "--output", "OUT", "--config", "/nonexistent.toml"], "cannot read config"),
        (["run", "--output", "/proc/furui-cannot-write"], "not writable"),
        # A typo in an option: Beam would only warn, run on the default config and
        # read the config file as an input.
        (["run", "--output", "OUT", "--confg", "x.toml"], "unknown option --confg (did you mean --config?)"),
        (["run", "--output", "OUT", "--frobnicate=3"], "unknown option --frobnicate"),
        (["run", "--output", "OUT", "--runner=NoSuchRunner"], "Unexpected pipeline runner: NoSuchRunner"),
        # Credentials in a path: refused up front, never echoed (Beam retried for minutes).
        (["run", "s3://AKIAQQQQ:supersecret123@bucket/in/*", "--output", "OUT"], "embeds credentials"),
        (["run", "--output", "s3://AKIAQQQQ:supersecret123@bucket/out"], "embeds credentials"),
        # A path argument that is not UTF-8 (files with such names under a directory are read).
        (["run", os.fsdecode(b"in/\x93\xfa.warc.gz"), "--output", "OUT"], "is not valid UTF-8"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(args, message, tmp_path, capsys):
    args = [a.replace("OUT", str(tmp_path / "o")) for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("furui: error:") and message in err[0]
    assert "supersecret" not in err[0]
    assert not (tmp_path / "o").exists()  # refused before the output was touched


def test_options_for_other_runners_and_spaced_values(tmp_path):
    from pipeline.run import UsageError, check_options, check_urls, split_beam_values

    # Flink's job server and other runners register options at submission: only a
    # near miss of a furui option is refused there; on the local runner, any unknown one.
    check_options(["--runner=FlinkRunner", "--flink_master=localhost:8081", "--checkpointing_interval=60000"])
    with pytest.raises(UsageError, match="did you mean --config"):
        check_options(["--runner=FlinkRunner", "--confg=x.toml"])
    with pytest.raises(UsageError, match="not a furui or Apache Beam option"):
        check_options(["--runner=DirectRunner", "--checkpointing_interval=60000"])
    with pytest.raises(UsageError, match="expected one argument"):
        check_options(["--runner=DirectRunner", "--direct_num_workers"])
    # "--direct_num_workers 1": the 1 is the option's value, not an input file; an
    # option is never taken for another's value; an input after an option is an input.
    assert split_beam_values(["--direct_num_workers", "1", "x.warc"]) == ["--direct_num_workers=1", "x.warc"]
    assert split_beam_values(["--temp_location", "-o", "o"]) == ["--temp_location", "-o", "o"]
    from pipeline.run import parse_run_args

    args, beam = parse_run_args(split_beam_values(["a.warc.gz", "--direct_num_workers", "2", "b.warc.gz", "-o", "o"]))
    assert args.inputs == ["a.warc.gz", "b.warc.gz"] and beam == ["--direct_num_workers=2"]
    # Inputs on both sides of --output / --config (argparse alone refused the second run).
    args, beam = parse_run_args(["a.jsonl", "--output", "o", "b.html", "-c", "c.toml", "c.warc", "--runner=X"])
    assert args.inputs == ["a.jsonl", "b.html", "c.warc"] and (args.output, args.config) == ("o", "c.toml")
    assert beam == ["--runner=X"]
    out = tmp_path / "o"
    assert run(["--output", str(out), "--direct_running_mode", "in_memory", "--direct_num_workers", "1"]) == 0
    assert json.loads((out / "stats.json").read_text())["accounted"]
    # "@" and ":" in an object key are not credentials; in the authority they are.
    check_urls(["s3://bucket/crawl/2024-05-01T12:00:00Z/page@2x.warc.gz"], "s3://b/dump:v2/out")
    # "?" is a glob character in s3:// and gs:// paths, not a query: no presigned URL there.
    check_urls(["s3://b/dumps/shard-?-secret.warc.gz", "gs://bkt/crawl/?/signature.warc.gz"], "s3://b/out")
    with pytest.raises(UsageError, match="embeds credentials"):
        check_urls(["s3://KEY:SECRET@bucket/x"], "out")
    with pytest.raises(UsageError, match="embeds credentials") as exc:  # AWS secrets may hold "/"
        check_urls(["s3://AKIAABCDEFGHIJKLMNOP:ab/cd+ef@bucket/crawl/x.warc.gz"], "out")
    assert "cd+ef" not in str(exc.value) and "AKIA" not in str(exc.value)


def test_a_placeholder_gcs_bucket_is_one_line_not_a_hang(tmp_path, capsys):
    """`gs://BUCKET/tmp` copied from the Dataflow example: Beam refused the name, then
    looked for credentials and tried to create a default bucket, which hung offline."""
    base = ["--output", str(tmp_path / "o"), "--runner=DataflowRunner", "--project=p", "--region=us-central1",
            "--dry_run=True"]
    assert main(["run", *base, "--temp_location", "gs://BUCKET/tmp"]) == 2
    assert capsys.readouterr().err.strip() == (
        "furui: error: --temp_location: 'BUCKET' is not a GCS bucket name (3-222 lowercase letters, digits, "
        "'-', '_' or '.'): put your bucket's name in gs://BUCKET/tmp")
    assert main(["run", "gs://My_Crawl/x.warc.gz", *base]) == 2
    assert "the input: 'My_Crawl' is not a GCS bucket name" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_missing_model_is_one_line_before_the_output_is_touched(sample_run_in_memory, tmp_path, capsys):
    import shutil

    out = tmp_path / "keep"
    shutil.copytree(sample_run_in_memory, out)
    cfg = tmp_path / "c.toml"
    cfg.write_text((REPO / "pipeline" / "configs" / "default.toml").read_text()
                   .replace('model_path = ""', 'model_path = "/nope/lid.bin"', 1))
    assert main(["run", "--output", str(out), "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["furui: error: step 'langid': fastText model not found: /nope/lid.bin"]
    assert (out / "_SUCCESS").exists() and (out / "README.md").exists()  # the previous run is intact


def test_a_directory_input_means_every_file_under_it(tmp_path):
    src = tmp_path / "crawl" / "2024"
    src.mkdir(parents=True)
    (src / "part-0.warc.gz").write_bytes((REPO / "pipeline" / "resources" / "sample.warc.gz").read_bytes())
    out = tmp_path / "o"
    assert run([str(tmp_path / "crawl"), "--output", str(out), "--direct_running_mode=in_memory"]) == 0
    stats = json.loads((out / "stats.json").read_text())
    assert stats["inputs"] == [str(tmp_path / "crawl") + "/**"]
    assert stats["records_in"] > 0 and stats["accounted"]
    assert "unreadable_file" not in json.dumps(stats["funnel"])


def test_a_rerun_removes_the_previous_card_and_plots(sample_run_in_memory, tmp_path):
    import shutil

    out = tmp_path / "again"
    shutil.copytree(sample_run_in_memory, out)
    assert (out / "README.md").exists() and list((out / "plots").iterdir())
    cfg = tmp_path / "nocard.toml"
    head, tail = (REPO / "pipeline" / "configs" / "default.toml").read_text().split("[output]")
    cfg.write_text(head + "[output]" + tail.replace("card = true", "card = false", 1))
    assert run(["--output", str(out), "--config", str(cfg), "--direct_running_mode=in_memory"]) == 0
    assert not (out / "README.md").exists() and not list((out / "plots").glob("*"))


def test_bad_config_key_is_one_line(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text((REPO / "pipeline" / "configs" / "default.toml").read_text().replace("[io]", "[io]\nbogus = 1"))
    assert main(["run", "--output", str(tmp_path / "o"), "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bogus" in err[0]


@pytest.mark.slow
def test_killed_run_leaves_no_partial_shard_that_looks_complete(tmp_path):
    """SIGKILL a run as soon as it starts writing: whatever is under a final name is whole."""
    out = tmp_path / "killed"
    env = dict(os.environ, FURUI_PROGRESS_SECONDS="0")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run", "--output", str(out),
         "--direct_running_mode=in_memory"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / ".furui-tmp").exists() or (out / "documents").exists() or (out / "rejects").exists():
            break
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "_SUCCESS").exists()
    for kind in ("documents", "rejects", "clusters"):
        for shard in (out / kind).glob("*.parquet") if (out / kind).exists() else []:
            pq.read_table(shard)  # a file under a final name is a complete Parquet file


def _stderr_lines(proc: subprocess.Popen, timeout_s: float = 120.0):
    """Yields the lines of ``proc.stderr`` and fails (rather than hangs) after ``timeout_s``."""
    import queue
    import threading

    lines: queue.Queue = queue.Queue()

    def pump():
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError(f"no end of stderr after {timeout_s}s") from None
        if line is None:
            return
        yield line


def _many_pages_warc(path: Path, n: int) -> Path:
    from tests.pipeline.test_readers import http, warc_record

    page = ("<html><body><article><h1>記事 {i}</h1>" + "<p>今日は良い天気です。公園を散歩しました。</p>" * 20
            + "</article></body></html>")
    path.write_bytes(b"".join(
        warc_record(block=http(page.format(i=i).encode()), url=f"https://example.jp/{i}",
                    rid=f"<urn:uuid:00000000-0000-0000-0000-{i:012d}>")
        for i in range(n)))
    return path


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
@pytest.mark.parametrize("mode", ["multi_processing", "in_memory"])
def test_ctrl_c_stops_every_process_with_one_line(tmp_path, mode):
    """Ctrl-C (SIGINT to the process group) during a run: one line on stderr and no
    traceback, the CLI dies by SIGINT (so a shell loop around it stops too), no
    _SUCCESS, and the runner, its SDK workers and their extraction children are all gone."""
    warc = _many_pages_warc(tmp_path / "many.warc", 4000)
    out = tmp_path / "out"
    # Reading 4,000 records takes a fraction of a second, extracting them ~10 s:
    # the first progress line means the run is well under way.
    env = dict(os.environ, FURUI_PROGRESS_SECONDS="0.05")
    workers = "1" if mode == "in_memory" else "2"
    # As from a terminal: SIGINT handled by default even when this test runs in a
    # background job (which starts every child with SIGINT ignored).
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "run", str(warc), "--output", str(out),
                             f"--direct_running_mode={mode}", f"--direct_num_workers={workers}"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        lines = _stderr_lines(proc)
        before = []
        for line in lines:  # wait until the run is reading and extracting
            before.append(line)
            if line.startswith("[furui] worker"):
                break
        assert proc.poll() is None, "".join(before)
        os.killpg(proc.pid, signal.SIGINT)
        rest = list(lines)
        assert proc.wait(60) == -signal.SIGINT, "".join(before + rest)
        err = [ln.rstrip("\n") for ln in rest if not ln.startswith("[furui] worker")]
        assert err == [f"furui: interrupted; {out} is incomplete (no _SUCCESS marker)"], "".join(rest)
        assert not (out / "_SUCCESS").exists()
        deadline = time.monotonic() + 10
        while _running_in_group(proc.pid):  # anything left of the run's process group?
            assert time.monotonic() < deadline, f"still running: {_running_in_group(proc.pid)}"
            time.sleep(0.1)
    finally:
        if _running_in_group(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)


def _running_in_group(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid`` (Linux /proc)."""
    live = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            live.append(int(entry))
    return live


def test_a_run_started_with_sigint_ignored_ignores_ctrl_c(tmp_path):
    """A background job (SIGINT ignored, as ``cmd &`` in a script does) must not be
    stopped by a Ctrl-C meant for the foreground: neither the runner nor its
    workers nor their extraction children install a handler of their own."""
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "run", "--output", str(out),
                             "--direct_num_workers=2"],
                            cwd=REPO, env=dict(os.environ, FURUI_PROGRESS_SECONDS="0.05"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        lines = _stderr_lines(proc)
        for line in lines:
            if line.startswith("[furui] worker"):
                break
        for _ in range(5):  # repeatedly, while the workers and children run
            os.killpg(proc.pid, signal.SIGINT)
            time.sleep(0.2)
        rest = "".join(lines)
        assert proc.wait(60) == 0, rest
    finally:
        if _running_in_group(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
    assert (out / "_SUCCESS").exists()
    assert "interrupted" not in rest and "Traceback" not in rest, rest
    # No extraction child died of the signals either: the sample comes out whole.
    stats = json.loads((out / "stats.json").read_text())
    assert stats["documents_out"] == 26 and stats["accounted"], stats["funnel"]


def test_interrupt_message_says_what_state_the_output_is_in(tmp_path):
    from pipeline.run import LOCAL_RUNNER, interrupt_message

    out = tmp_path / "out"
    out.mkdir()
    assert interrupt_message(str(out), "start", LOCAL_RUNNER) == "interrupted before anything was written"
    assert interrupt_message(str(out), "running", LOCAL_RUNNER) == \
        f"interrupted; {out} is incomplete (no _SUCCESS marker)"
    remote = interrupt_message("gs://bucket/out", "running", "DataflowRunner")
    assert "DataflowRunner" in remote and "may still be running" in remote
    assert "clearing the previous output" in interrupt_message(str(out), "preparing", LOCAL_RUNNER)
    # The pipeline finished, the card or the marker was not written yet: no marker.
    assert "no _SUCCESS marker: rerun" in interrupt_message(str(out), "finishing", LOCAL_RUNNER)
    (out / "_SUCCESS").write_text("config_sha256 x\n")
    assert "output was complete" in interrupt_message(str(out), "finishing", LOCAL_RUNNER)


def test_success_marker_is_the_last_file_written(tmp_path, monkeypatch):
    """_SUCCESS means every output is in place: the card is written before it."""
    import pipeline.card

    real, seen = pipeline.card.write_card, []

    def write_card(out_dir):
        seen.append((Path(out_dir) / "_SUCCESS").exists())
        return real(out_dir)

    monkeypatch.setattr(pipeline.card, "write_card", write_card)
    out = tmp_path / "out"
    assert run(["--output", str(out), "--direct_running_mode=in_memory", "--direct_num_workers=1"]) == 0
    assert seen == [False] and (out / "_SUCCESS").exists() and (out / "README.md").exists()


def test_a_failing_card_costs_the_card_not_the_run(tmp_path, monkeypatch, capsys):
    """The data is complete when the card is written: a card that fails is a
    warning (furui card writes it later), and the run still gets its _SUCCESS."""
    import pipeline.card

    def write_card(out_dir):
        raise RuntimeError("plot backend broke")

    monkeypatch.setattr(pipeline.card, "write_card", write_card)
    out = tmp_path / "out"
    assert run(["--output", str(out), "--direct_running_mode=in_memory", "--direct_num_workers=1"]) == 0
    assert (out / "_SUCCESS").exists() and not (out / "README.md").exists()
    err = capsys.readouterr().err
    assert "dataset card could not be written (RuntimeError: plot backend broke)" in err and "furui card" in err


def test_a_new_run_removes_the_old_success_marker_first(tmp_path, monkeypatch):
    """Stopped while the previous run's files are deleted, a run must not leave the
    old _SUCCESS next to half of the old shards: the marker is deleted first, alone."""
    from apache_beam.io.filesystems import FileSystems

    from pipeline.run import prepare_output

    out = tmp_path / "out"
    (out / "documents").mkdir(parents=True)
    (out / "documents" / "documents-00000-of-00001.parquet").write_bytes(b"x")
    for name in ("_SUCCESS", "stats.json", "config.toml"):
        (out / name).write_text("x")
    calls = []
    real_delete = FileSystems.delete
    monkeypatch.setattr(FileSystems, "delete", staticmethod(lambda paths: (calls.append(list(paths)),
                                                                          real_delete(paths))))
    prepare_output(str(out))
    assert [os.path.basename(p) for p in calls[0]] == ["_SUCCESS"]
    assert not any(os.path.basename(p) == "_SUCCESS" for p in calls[1])
    assert not (out / "_SUCCESS").exists() and not (out / "stats.json").exists()


def test_site_boilerplate_goes_before_the_filters_on_both_runners(sample_run_in_memory, tmp_path):
    """Lines that one site repeats on 10+ different pages are removed by the
    default config (the ``site_boilerplate`` step), with the run's statistics;
    a site with fewer pages keeps them; both local modes agree."""
    bodies = _kept_texts(sample_run_in_memory, 12)
    header, footer = "ブログ名 ホーム > 記事一覧", "Copyright 2026 example blog. All rights reserved."
    big = [{"id": f"big-{i}", "url": f"https://blog.example.jp/{i}", "text": f"{header}\n{b}\n{footer}"}
           for i, b in enumerate(bodies[:10])]
    small = [{"id": f"small-{i}", "url": f"https://small.example.jp/{i}", "text": f"{header}\n{b}"}
             for i, b in enumerate(bodies[10:])]
    _jsonl(tmp_path / "in" / "a" / "p.jsonl", *big[:5], *small)
    _jsonl(tmp_path / "in" / "b" / "p.jsonl", *big[5:])
    results = []
    for out in _run_in_both_modes(tmp_path):
        docs = {d["id"]: d["text"] for d in rows(out, "documents")}
        assert docs == {**{f"big-{i}": b for i, b in enumerate(bodies[:10])},
                        **{f"small-{i}": f"{header}\n{b}" for i, b in enumerate(bodies[10:])}}
        stats = json.loads((out / "stats.json").read_text())
        assert stats["accounted"] and stats["documents_out"] == 12
        assert stats["site_boilerplate"] == {"documents_changed": 10, "lines_removed": 20,
                                             "chars_removed": 10 * (len(header) + len(footer) + 2)}
        row = next(f for f in stats["funnel"] if f["filter"] == "site_boilerplate")
        assert row == {"stage": "boilerplate", "filter": "site_boilerplate", "in": 12, "kept": 12, "dropped": {}}
        card = (out / "README.md").read_text(encoding="utf-8")
        assert "at least 10 different pages (headers, breadcrumbs, footers that main-text extraction kept) were " \
               "removed where templates put them, in the runs of such lines that open and close a page" in card
        assert ": 20 lines (" in card and "from 10 of the documents that reached the step" in card
        results.append(sorted(docs.items()))
    assert results[0] == results[1]


def test_cluster_rows_are_sharded_by_member_not_by_cluster(sample_run_in_memory, tmp_path):
    """One huge cluster (a page repeated millions of times) must not become one shard
    that one worker holds and sorts: rows go to the shard of their member (its id
    and text digest, as its document)."""
    import re

    cfg = tmp_path / "tiny.toml"
    cfg.write_text((REPO / "pipeline" / "configs" / "default.toml").read_text()
                   .replace("shard_bytes = 256_000_000", "shard_bytes = 200", 1))
    out = tmp_path / "out"
    assert run(["--output", str(out), "--config", str(cfg), "--direct_running_mode=in_memory"]) == 0
    shards = sorted((out / "clusters").iterdir())
    assert len(shards) > 1
    spread, member_shards = collections.defaultdict(set), collections.defaultdict(set)
    for path in shards:
        index = int(re.search(r"-(\d+)-of-\d+\.parquet$", path.name).group(1))
        table = pq.read_table(path)
        assert table.to_pylist() == sorted(table.to_pylist(), key=lambda r: (r["cluster_id"], r["doc_id"]))
        assert "member_digest" not in table.column_names  # a shard key, not a column
        for r in table.to_pylist():
            spread[r["cluster_id"]].add(index)
            member_shards[r["doc_id"]].add(index)
    assert any(len(indexes) > 1 for indexes in spread.values())  # some cluster spans shards
    assert all(len(indexes) == 1 for indexes in member_shards.values())  # a member's rows: one shard
    key = lambda r: (r["cluster_id"], r["doc_id"])  # noqa: E731
    assert sorted(rows(out, "clusters"), key=key) == sorted(rows(sample_run_in_memory, "clusters"), key=key)


def test_a_tiny_shard_size_gives_at_most_one_shard_per_row(tmp_path):
    """shard_bytes = 1 (or 256, meant as MB) asked for one shard per byte: 51,394 empty
    files for 8 documents. The count is capped at the number of rows."""
    cfg = tmp_path / "one.toml"
    cfg.write_text((REPO / "pipeline" / "configs" / "default.toml").read_text()
                   .replace("shard_bytes = 256_000_000", "shard_bytes = 1", 1))
    out = tmp_path / "out"
    assert run(["--output", str(out), "--config", str(cfg), "--direct_running_mode=in_memory"]) == 0
    stats = json.loads((out / "stats.json").read_text())
    (dedup_in,) = [r["in"] for r in stats["funnel"] if r["filter"] == "exact_dedup"]
    assert len(list((out / "documents").iterdir())) == dedup_in  # sized from the documents entering dedup
    assert len(list((out / "rejects").iterdir())) == stats["rejected"]
    assert len(list((out / "clusters").iterdir())) == len(rows(out, "clusters"))


def test_truncated_pages_are_rejected_or_kept_with_a_score(sample_run_in_memory, tmp_path):
    """[io] truncated_pages: a page the crawler cut (WARC-Truncated) is a read/truncated
    reject by default; with "keep" it is extracted and carries read.truncated = 1."""
    import html as html_lib

    (text,) = _kept_texts(sample_run_in_memory, 1)
    page = ("<html><head><title>t</title></head><body><article>"
            + "".join(f"<p>{html_lib.escape(line)}</p>" for line in text.split("\n"))
            + "</article></body></html>").encode()
    block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + page
    head = ("WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:cut-page>\r\n"
            "WARC-Target-URI: https://cut.example.jp/a\r\nWARC-Date: 2024-05-01T09:00:00Z\r\n"
            "WARC-Truncated: length\r\nContent-Type: application/http; msgtype=response\r\n"
            f"Content-Length: {len(block)}\r\n\r\n").encode()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "cut.warc").write_bytes(head + block + b"\r\n\r\n")
    base = (REPO / "pipeline" / "configs" / "default.toml").read_text()
    for policy in ("reject", "keep"):
        cfg = tmp_path / f"{policy}.toml"
        cfg.write_text(base.replace('truncated_pages = "reject"', f'truncated_pages = "{policy}"', 1))
        out = tmp_path / policy
        assert run([str(tmp_path / "in"), "--output", str(out), "--config", str(cfg),
                    "--direct_running_mode=in_memory"]) == 0
        docs, gone = rows(out, "documents"), rows(out, "rejects")
        if policy == "reject":
            assert docs == [] and [(r["stage"], r["reason"], r["detail"]) for r in gone] == [
                ("read", "truncated", "page cut short: WARC-Truncated: length")]
        else:
            (doc,) = docs
            assert doc["id"] == "cut-page" and {"key": "read.truncated", "value": 1.0} in doc["scores"]


def test_an_output_that_is_a_file_or_empty_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    assert run(["--output", str(tmp_path / "afile"), "--direct_running_mode=in_memory"]) == 2
    assert run(["--output", "", "--direct_running_mode=in_memory"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"furui: error: --output {tmp_path / 'afile'} is a file, not a directory",
                   "furui: error: --output is empty"]
    assert (tmp_path / "afile").read_text() == "x"


def test_stats_record_every_setting_in_force_however_little_the_config_gives(tmp_path):
    """config.toml is the file as given; stats.json has the values that ran, defaults included."""
    cfg = tmp_path / "partial.toml"
    cfg.write_text('config_version = 1\n[output]\ndataset_name = "mine"\n[extract]\nfast = true\n', "utf-8")
    out = tmp_path / "out"
    assert run(["--config", str(cfg), "--output", str(out), "--direct_running_mode=in_memory"]) == 0
    assert (out / "config.toml").read_bytes() == cfg.read_bytes()
    stats = json.loads((out / "stats.json").read_text("utf-8"))
    assert stats["extract"]["fast"] is True and stats["extract"]["timeout_s"] == 10.0
    assert stats["output"]["dataset_name"] == "mine" and stats["output"]["compression"] == "zstd"
    assert stats["io"] == {"max_payload_bytes": 10_000_000, "reshuffle": "auto", "truncated_pages": "reject"}
    assert [f["name"] for f in stats["filters"]][:3] == ["normalize", "langid", "url_blocklist"]  # the defaults
