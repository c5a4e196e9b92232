"""Stages on the in-process Beam runner: kept and rejected outputs, counters."""

import time
from dataclasses import dataclass
from typing import ClassVar

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
import pytest

from filters.base import Filter
from filters.length import LengthFilter
from pipeline.extract import ExtractOptions
from pipeline.stages import ApplyFilter, ApplySteps, ExtractText, ReadWarc, group_steps
from schemas.records import Doc, Record
from tests.conftest import IN_MEMORY
from tests.pipeline.test_extract import ARTICLE


def doc(i, text):
    return Doc(id=f"d{i}", url=f"https://example.jp/{i}", source="s", crawl_date="", text=text, n_chars=len(text))


def counters(result, namespace):
    out = {}
    for c in result.metrics().query(MetricsFilter().with_namespace(namespace))["counters"]:
        out[c.key.metric.name] = out.get(c.key.metric.name, 0) + c.committed
    return out


def test_apply_filter_splits_and_counts():
    docs = [doc(1, "あ" * 5), doc(2, "い" * 20), doc(3, "う" * 2)]
    p = TestPipeline(options=PipelineOptions(IN_MEMORY))
    out = p | beam.Create(docs) | "Filter/length" >> ApplyFilter(LengthFilter(min_chars=3, max_chars=10))
    assert_that(out["kept"] | beam.Map(lambda d: (d.id, d.scores["length.n_chars"])), equal_to([("d1", 5.0)]),
                label="kept")
    assert_that(out["rejected"] | beam.Map(lambda r: (r.id, r.stage, r.filter, r.reason)),
                equal_to([("d2", "filter", "length", "too_long"), ("d3", "filter", "length", "too_short")]),
                label="rejected")
    result = p.run()
    result.wait_until_finish()
    c = counters(result, "furui.filter.length")
    assert c["in"] == 3 and c["kept"] == 1 and c["dropped.too_long"] == 1 and c["dropped.too_short"] == 1
    assert c["in"] == c["kept"] + sum(v for k, v in c.items() if k.startswith(("dropped.", "error.")))


@dataclass(frozen=True)
class _Exploding(Filter):
    name: ClassVar[str] = "test_exploding"
    reasons: ClassVar[tuple[str, ...]] = ("never",)

    def score(self, doc):
        if "爆" in doc.text:
            raise ZeroDivisionError("boom")
        return {"ok": 1.0}


@dataclass(frozen=True)
class _Liar(Filter):
    name: ClassVar[str] = "test_liar"
    reasons: ClassVar[tuple[str, ...]] = ("declared",)

    def decide(self, scores):
        return "undeclared"


@dataclass(frozen=True)
class _OutOfMemory(Filter):
    name: ClassVar[str] = "test_oom"
    reasons: ClassVar[tuple[str, ...]] = ("never",)

    def score(self, doc):
        raise MemoryError()


def test_a_memory_error_is_retried_by_the_runner_not_a_reject():
    """MemoryError says how full the worker was, not what the document is: a reject
    would make reruns differ. The bundle fails, and runners retry bundles."""
    from pipeline.stages import _StepsFn

    fn = _StepsFn((_OutOfMemory(),))
    fn.setup()
    fn.start_bundle()
    with pytest.raises(MemoryError):
        list(fn.process(doc(1, "本文")))


@dataclass(frozen=True)
class _NoneScore(Filter):
    name: ClassVar[str] = "test_none_score"
    reasons: ClassVar[tuple[str, ...]] = ("never",)

    def score(self, doc):
        return {"ok": None if "無" in doc.text else 1.0}


def test_a_score_that_is_not_a_number_rejects_its_document_not_the_bundle():
    from pipeline.stages import _StepsFn

    fn = _StepsFn((_NoneScore(),))
    fn.setup()
    fn.start_bundle()
    (kept,) = fn.process(doc(1, "有"))
    (rejected,) = fn.process(doc(2, "無"))
    assert kept.scores == {"test_none_score.ok": 1.0}
    assert (rejected.value.id, rejected.value.reason) == ("d2", "error.TypeError")


def test_exceptions_and_undeclared_reasons_become_rejects():
    p = TestPipeline(options=PipelineOptions(IN_MEMORY))
    docs = p | beam.Create([doc(1, "平和"), doc(2, "爆発")])
    boom = docs | "Filter/test_exploding" >> ApplyFilter(_Exploding())
    liar = boom["kept"] | "Filter/test_liar" >> ApplyFilter(_Liar())
    assert_that(boom["rejected"] | beam.Map(lambda r: (r.id, r.reason, r.detail)),
                equal_to([("d2", "error.ZeroDivisionError", "ZeroDivisionError: boom")]), label="errors")
    assert_that(liar["rejected"] | beam.Map(lambda r: (r.id, r.reason)),
                equal_to([("d1", "error.UndeclaredReason")]), label="liar")
    assert_that(liar["kept"], equal_to([]), label="nothing kept")
    p.run().wait_until_finish()


def _record(i, payload, content_type="text/html; charset=utf-8", kind="html"):
    return Record(id=f"r{i}", url=f"https://example.jp/{i}", source="s", crawl_date="2024-01-01T00:00:00Z",
                  content_type=content_type, payload=payload, kind=kind)


def test_extract_text_stage():
    records = [
        _record(1, ARTICLE.encode("utf-8")),
        _record(2, ARTICLE.replace("<head>", "<head><meta charset='shift_jis'>").encode("cp932"), "text/html"),
        _record(3, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10, "text/html"),
        _record(4, b"<html><body><script>var x = 1;</script></body></html>"),
        _record(5, "プレーンテキストの本文です。".encode(), "", kind="text"),
    ]
    p = TestPipeline(options=PipelineOptions(IN_MEMORY))
    out = p | beam.Create(records) | "ExtractText" >> ExtractText(ExtractOptions(), timeout_s=30)
    assert_that(out["kept"] | beam.Map(lambda d: (d.id, d.charset, "盆踊り" in d.text or "本文" in d.text)),
                equal_to([("r1", "utf-8", True), ("r2", "cp932", True), ("r5", "utf-8", True)]), label="kept")
    assert_that(out["rejected"] | beam.Map(lambda r: (r.id, r.stage, r.reason)),
                equal_to([("r3", "extract", "binary_payload"), ("r4", "extract", "no_text")]), label="rejected")
    result = p.run()
    result.wait_until_finish()
    # Worker time of the stage: two real trafilatura extractions take milliseconds.
    assert counters(result, "furui.extract")["time_us"] > 1000


def test_read_warc_counts_every_record(tmp_path):
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path = tmp_path / "t.warc.gz"
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        w.write_record(w.create_warcinfo_record("t.warc.gz", {"software": "test"}))
        for i, (ctype, body) in enumerate([("text/html; charset=utf-8", ARTICLE.encode()), ("image/png", b"\x89PNG")]):
            headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(f"https://example.jp/{i}", "response",
                                                payload=BytesIO(body), http_headers=headers))
    p = TestPipeline(options=PipelineOptions(IN_MEMORY))
    out = p | ReadWarc([str(tmp_path / "*.warc.gz"), str(path)], 10_000_000)
    assert_that(out["kept"] | beam.Map(lambda r: r.url), equal_to(["https://example.jp/0"]), label="kept")
    assert_that(out["rejected"] | beam.Map(lambda r: r.reason), equal_to(["not_response", "not_html"]),
                label="rejected")
    p.run().wait_until_finish()


@dataclass(frozen=True)
class _ReadsEarlierScore(Filter):
    name: ClassVar[str] = "test_reads_length"
    reasons: ClassVar[tuple[str, ...]] = ("long",)

    def score(self, doc):
        return {"seen": doc.scores["length.n_chars"]}

    def decide(self, scores):
        return "long" if scores["seen"] > 6 else None


def test_steps_in_one_dofn_behave_like_one_dofn_each():
    docs = [doc(1, "あ" * 5), doc(2, "い" * 8), doc(3, "う" * 2)]
    steps = (LengthFilter(min_chars=3, max_chars=10), _ReadsEarlierScore())
    p = TestPipeline(options=PipelineOptions(IN_MEMORY))
    src = p | beam.Create(docs)
    fused = src | "Fused" >> ApplySteps(steps)
    one = src | "One/length" >> ApplyFilter(steps[0])
    two = one["kept"] | "One/reads" >> ApplyFilter(steps[1])
    assert_that(fused["kept"] | "k1" >> beam.Map(lambda d: (d.id, sorted(d.scores))),
                equal_to([("d1", ["length.n_chars", "test_reads_length.seen"])]), label="kept")
    expected_rejects = [("d2", "filter", "test_reads_length", "long"), ("d3", "filter", "length", "too_short")]
    assert_that(fused["rejected"] | "r1" >> beam.Map(lambda r: (r.id, r.stage, r.filter, r.reason)),
                equal_to(expected_rejects), label="rejected")
    both = (one["rejected"], two["rejected"]) | beam.Flatten()
    assert_that(both | "r2" >> beam.Map(lambda r: (r.id, r.stage, r.filter, r.reason)),
                equal_to(expected_rejects), label="same as separate")
    result = p.run()
    result.wait_until_finish()
    c = counters(result, "furui.filter.test_reads_length")
    assert c["in"] == 2 * 2 and c["kept"] == 2 * 1  # fused and separate runs both count


@dataclass(frozen=True)
class _Slow(Filter):
    name: ClassVar[str] = "test_slow"
    reasons: ClassVar[tuple[str, ...]] = ()

    def score(self, doc):
        time.sleep(0.02)
        return {}


def test_each_fused_step_reports_its_own_worker_time():
    from pipeline.report import step_times

    docs = [doc(i, "あ" * 5) for i in range(5)]
    p = TestPipeline(options=PipelineOptions(IN_MEMORY))
    _ = p | beam.Create(docs) | "Fused" >> ApplySteps((LengthFilter(min_chars=3, max_chars=10), _Slow()))
    result = p.run()
    result.wait_until_finish()
    times = step_times(result)
    # 5 documents x 20 ms in the slow step; the length check beside it in the same DoFn gets none of it.
    assert 0.1 <= times["furui.filter.test_slow"] < 2.0
    assert 0 <= times["furui.filter.length"] < 0.02


def _run_steps(docs, steps, batch_size):
    from pipeline.stages import batch_docs, unbatch_docs

    p = TestPipeline(options=PipelineOptions(IN_MEMORY))
    src = p | beam.Create(docs)
    if batch_size:
        out = batch_docs(src, batch_size) | "Steps" >> ApplySteps(steps, batched=True)
        kept = unbatch_docs(out["kept"])
    else:
        out = src | "Steps" >> ApplySteps(steps)
        kept = out["kept"]
    expected_kept = [("d0", [("length.n_chars", 5.0), ("test_exploding.ok", 1.0), ("test_reads_length.seen", 5.0)]),
                     ("d4", [("length.n_chars", 4.0), ("test_exploding.ok", 1.0), ("test_reads_length.seen", 4.0)])]
    assert_that(kept | "k" >> beam.Map(lambda d: (d.id, sorted(d.scores.items()))), equal_to(expected_kept),
                label="kept")
    expected_rejects = [("d1", "test_reads_length", "long"), ("d2", "length", "too_short"),
                        ("d3", "test_exploding", "error.ZeroDivisionError")]
    assert_that(out["rejected"] | "r" >> beam.Map(lambda r: (r.id, r.filter, r.reason)), equal_to(expected_rejects),
                label="rejected")
    result = p.run()
    result.wait_until_finish()
    return {ns: counters(result, ns) for ns in ("furui.filter.length", "furui.filter.test_reads_length",
                                                 "furui.filter.test_exploding")}


def test_batched_steps_give_the_same_documents_rejects_and_counters():
    texts = ["あ" * 5, "い" * 8, "う" * 2, "爆" * 4, "え" * 4]
    docs = [doc(i, t) for i, t in enumerate(texts)]
    steps = (LengthFilter(min_chars=3, max_chars=10), _ReadsEarlierScore(), _Exploding())
    one = _run_steps(docs, steps, 0)
    for size in (1, 2, 64):  # batches that split the documents in different ways
        got = _run_steps(docs, steps, size)
        assert {ns: {k: v for k, v in c.items() if k != "time_us"} for ns, c in got.items()} == \
            {ns: {k: v for k, v in c.items() if k != "time_us"} for ns, c in one.items()}
    assert one["furui.filter.length"]["in"] == 5 and one["furui.filter.test_exploding"]["in"] == 3


def test_group_steps_labels():
    from pipeline.config import load_config

    labels = [label for label, _ in group_steps(load_config().steps)]
    assert labels[:2] == ["Normalize/normalize", "IdentifyLanguage/langid"]
    assert labels[-1] == "RedactPii/pii" and "Tokenize/tokenize" in labels


def test_batches_are_capped_by_documents_and_by_characters():
    """A batch holds at most max_docs documents and max_chars characters of text,
    so a JSONL corpus of books does not make batches of gigabytes; a longer
    document is a batch of its own and nothing is lost or reordered."""
    from pipeline.stages import _BatchDocs

    fn = _BatchDocs(max_docs=3, max_chars=100)
    fn.start_bundle()
    sizes = [10, 10, 10, 10, 60, 50, 250, 5, 5]
    docs = [doc(i, "あ" * n) for i, n in enumerate(sizes)]
    batches = [b for d in docs for b in fn.process(d)]
    (last,) = fn.finish_bundle()
    batches.append(last.value)
    assert [[len(d.text) for d in b] for b in batches] == [[10, 10, 10], [10, 60], [50], [250], [5, 5]]
    assert [d.id for b in batches for d in b] == [d.id for d in docs]
    assert list(fn.finish_bundle()) == []  # the next bundle starts empty
    with pytest.raises(ValueError):
        _BatchDocs(0)


def test_broken_links_and_fifos_under_a_directory_are_unreadable_file_rejects(tmp_path):
    """Beam's local listing skips a broken symbolic link (no trace in the counts), and
    reading a FIFO blocked the run forever: each is one unreadable_file reject."""
    import json
    import os
    import threading

    src = tmp_path / "crawl"
    src.mkdir()
    (src / "ok.jsonl").write_text(json.dumps({"id": "a", "text": "本文です。"}) + "\n", encoding="utf-8")
    os.symlink(tmp_path / "missing.warc.gz", src / "broken.warc.gz")
    os.mkfifo(src / "pipe.warc")

    def unblock():  # if the FIFO were opened, a writer ends the wait, and the test fails instead of hanging
        time.sleep(60)
        if not done.is_set():
            with open(src / "pipe.warc", "wb"):
                pass

    done = threading.Event()
    threading.Thread(target=unblock, daemon=True).start()
    p = TestPipeline(options=PipelineOptions(IN_MEMORY))
    out = p | ReadWarc([str(src) + "/**"], 10_000_000)
    assert_that(out["kept"] | beam.Map(lambda r: r.id), equal_to(["a"]), label="kept")
    assert_that(out["rejected"] | beam.Map(lambda r: (os.path.basename(r.source), r.reason, r.detail)),
                equal_to([("broken.warc.gz", "unreadable_file",
                           f"OSError: broken symbolic link (to {str(tmp_path / 'missing.warc.gz')!r})"),
                          ("pipe.warc", "unreadable_file", "OSError: not a regular file but a FIFO")]),
                label="rejected")
    p.run().wait_until_finish()
    done.set()


def test_reading_logs_no_beam_warning(tmp_path, caplog):
    """Beam warned "Using yield and return in the process method" on every run, of
    furui's broken-link search (a generator with an early return)."""
    import logging

    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.stages import ReadWarc

    with caplog.at_level(logging.WARNING, logger="apache_beam"):
        p = beam.Pipeline(options=PipelineOptions(IN_MEMORY))
        _ = p | ReadWarc([str(tmp_path / "*.warc")], 1_000_000)
    assert not [r for r in caplog.records if "yield and return" in r.getMessage()]
