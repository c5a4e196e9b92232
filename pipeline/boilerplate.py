"""Beam composite of the corpus-wide ``site_boilerplate`` step.

Graph (two shuffles of small records, one of documents)::

    docs --LineKeys--> ((site, line) key, (text digest, doc id))  per distinct line
         --GroupByKey--> Frequent: if the key's group holds >= min_pages distinct
                         text digests, (doc id, key) for every page in it
    docs keyed by id + frequent (doc id, key) --CoGroupByKey--> Strip

Cost per document entering the step: one record of ~60-80 bytes per distinct
line (an 8-byte key, an 8-byte digest, the id), one ~50-byte record per
boilerplate line found, and the document itself once. Memory per worker is
bounded by the largest group: the pages of one site that share one line (the
group is read twice, never copied: Beam's grouped values are re-iterable) and
the frequent keys of one document. Nothing is gathered onto one worker; the
result does not depend on bundle or worker boundaries.
"""

from __future__ import annotations

import time

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics

from dedup.components import reiterable
from filters.boilerplate import SiteBoilerplate
from pipeline.report import STEP_TIME_METRIC
from pipeline.stages import REJECTED, _Counters, _truncate, metrics_namespace
from schemas.records import Doc, Reject


def _digest(text: str) -> bytes:
    import xxhash

    return xxhash.xxh3_64_digest(text.encode("utf-8", "surrogatepass"))


class _LineKeys(beam.DoFn):
    def __init__(self, step: SiteBoilerplate):
        self.step = step

    def setup(self):
        self.time_us = Metrics.counter(metrics_namespace(self.step), STEP_TIME_METRIC)

    def start_bundle(self):
        self._ns = 0

    def finish_bundle(self):
        if self._ns:
            self.time_us.inc(self._ns // 1000)
        self._ns = 0

    def process(self, doc: Doc):
        t0 = time.perf_counter_ns()
        try:
            keys = self.step.line_keys(doc)
        except Exception:  # a document the step cannot key is only not counted (strip rejects it if it fails too)
            keys = []
        value = (_digest(doc.text), doc.id) if keys else None
        self._ns += time.perf_counter_ns() - t0
        for k in keys:
            yield k, value


class _Frequent(beam.DoFn):
    def __init__(self, min_pages: int):
        self.min_pages = min_pages

    def setup(self):
        self.frequent = Metrics.counter(metrics_namespace(SiteBoilerplate), "boilerplate_keys")

    def process(self, element):
        key, pages = element
        pages = reiterable(pages)
        texts: set[bytes] = set()
        for digest, _ in pages:
            texts.add(digest)
            if len(texts) >= self.min_pages:
                break
        else:
            return
        self.frequent.inc()
        for _, doc_id in pages:
            yield doc_id, key


class _Strip(beam.DoFn):
    """Rewrites each document with its frequent keys, with the step's counters."""

    def __init__(self, step: SiteBoilerplate):
        self.step = step

    def setup(self):
        ns = metrics_namespace(self.step)
        self.counters = _Counters(ns, self.step.reasons)
        self.chars_in = Metrics.distribution(ns, "chars_in")
        self.time_us = Metrics.counter(ns, STEP_TIME_METRIC)
        self.changed = Metrics.counter(ns, "documents_changed")
        self.prefix = self.step.name + "."

    def start_bundle(self):
        self._ns = 0

    def finish_bundle(self):
        if self._ns:
            self.time_us.inc(self._ns // 1000)
        self._ns = 0

    def process(self, element):
        _, grouped = element
        docs, keys = grouped["doc"], grouped["key"]
        frequent = set(keys)
        for doc in docs:
            self.counters.c_in.inc()
            self.chars_in.update(len(doc.text))
            t0 = time.perf_counter_ns()
            try:
                new, scores = self.step.strip(doc, frequent)
            except MemoryError:
                raise
            except Exception as exc:  # this document only, like every per-document step
                self.counters.drop(f"error.{type(exc).__name__}")
                yield pvalue.TaggedOutput(REJECTED, Reject(
                    id=doc.id, url=doc.url, source=doc.source, stage=self.step.stage, filter=self.step.name,
                    reason=f"error.{type(exc).__name__}", detail=_truncate(f"{type(exc).__name__}: {exc}"),
                    scores={}, n_chars=len(doc.text)))
                continue
            self._ns += time.perf_counter_ns() - t0
            if scores["lines_removed"]:
                self.changed.inc()
            merged = dict(new.scores)
            merged.update({self.prefix + k: v for k, v in scores.items()})
            self.counters.c_kept.inc()
            yield new._replace(scores=merged)


class RemoveSiteBoilerplate(beam.PTransform):
    """Applies a :class:`filters.boilerplate.SiteBoilerplate` step to a whole run.

    Input: documents (one per element). Output: ``{"kept", REJECTED}``, like
    ``pipeline.stages.ApplySteps``: every document leaves in ``kept``
    (rewritten or not) unless the step failed on it (``error.<Exception>``).
    """

    def __init__(self, step: SiteBoilerplate):
        super().__init__()
        self.step = step

    def expand(self, docs):
        step = self.step
        frequent = (
            docs
            | "LineKeys" >> beam.ParDo(_LineKeys(step))
            | "GroupLines" >> beam.GroupByKey()
            | "Frequent" >> beam.ParDo(_Frequent(step.min_pages))
        )
        keyed = docs | "KeyById" >> beam.Map(lambda d: (d.id, d))
        out = (
            {"doc": keyed, "key": frequent}
            | "Join" >> beam.CoGroupByKey()
            | "Strip" >> beam.ParDo(_Strip(step)).with_outputs(REJECTED, main="kept")
        )
        return {"kept": out.kept, REJECTED: out[REJECTED]}


class ApplyCorpusSteps(beam.PTransform):
    """The pipeline's form of consecutive corpus-wide steps: batches of documents
    in (as ``pipeline.stages.ApplySteps(batched=True)`` takes them), batches out,
    every step's rejects flattened into one ``REJECTED`` output."""

    def __init__(self, steps: tuple[SiteBoilerplate, ...]):
        super().__init__()
        self.steps = tuple(steps)

    def expand(self, batches):
        from pipeline.stages import batch_docs, unbatch_docs

        docs = unbatch_docs(batches)
        rejects = []
        for i, step in enumerate(self.steps):
            out = docs | f"{step.name}" + (f"_{i}" if i else "") >> RemoveSiteBoilerplate(step)
            docs = out["kept"]
            rejects.append(out[REJECTED])
        return {"kept": batch_docs(docs), REJECTED: tuple(rejects) | "Rejects" >> beam.Flatten()}
