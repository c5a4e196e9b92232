"""Beam composite of the corpus-wide ``site_boilerplate`` step.

Graph::

    docs --LineKeys--> (key, (text digest, page digest))    per distinct line: counting
                       ((key, salt), member)                per distinct line: membership
    counting --CombinePerKey(_DistinctPages)--> frequent keys
             --Markers--> ((key, s), None) for s in 0..SALTS-1
    markers + membership --GroupByKey--> (member, key) for the pages of frequent keys
    docs keyed by member + (member, key) --CoGroupByKey--> Strip

``key`` is a 63-bit hash of (site, line). Frequency is decided by a combiner
whose accumulator holds at most ``4 * min_pages`` (page, text) digest pairs
(``_DistinctPages``), so the pages of a site-wide template line are counted on
every worker and merged, never gathered. A document's ``member`` key is its id and
the 8-byte digest of its text (:func:`join_key`: ids may repeat, texts under one id
rarely do). Membership is keyed by (key, salt), the salt a hash of the member key
modulo ``SALTS``: a template line of a site with N pages becomes SALTS groups of
~N/SALTS member keys, and the frequent-key marker is copied into each. A
group is read twice (is the marker there? then every member), never copied:
Beam's grouped values are re-iterable.

Cost per document entering the step: per distinct line one counting record
(~30 bytes, fewer after the combiner) and one membership record (~70-80
bytes: the salted key and the member key), per frequent line found one ~70-byte
(member, key) record, and the document itself once; per frequent key SALTS
markers. Memory per worker: a combiner accumulator per key and bundle (up to
4 x min_pages entries: ~6 KB of Python objects at the default 10, ~0.7 KB
encoded), one salted group, and the copies of one text under one id (one
record read twice). The result does not depend on bundle or worker boundaries.
"""

from __future__ import annotations

import time

import apache_beam as beam
import xxhash
from apache_beam import pvalue
from apache_beam.metrics import Metrics

from dedup.components import reiterable
from filters.boilerplate import SiteBoilerplate
from pipeline.report import STEP_TIME_METRIC
from pipeline.stages import REJECTED, BundleTimer, _Counters, _truncate, metrics_namespace
from schemas.records import Doc, Reject

#: Membership groups per frequent key (the hot-key split of a site-wide line).
SALTS = 16
MEMBER = "member"


def join_key(doc: Doc, text_digest: bytes | None = None) -> tuple[str, bytes]:
    """What a document meets its frequent keys on: its id and its text's 8-byte
    digest (:meth:`SiteBoilerplate.page_digests`). Ids are the user's and can
    repeat (a constant JSONL id field); keyed by id alone, all their documents
    met in one group. Only copies of one text under one id still do, and they
    get the same lines removed.

    >>> d = Doc(id="a", url="", source="", crawl_date="", text="t")
    >>> join_key(d) == join_key(d._replace(url="x")) != join_key(d._replace(text="u"))
    True
    """
    if text_digest is None:
        text_digest = xxhash.xxh3_64_digest(doc.text.encode("utf-8", "surrogatepass"))
    return doc.id, text_digest


def salt_of(key: tuple[str, bytes]) -> int:
    """The membership salt of a document: a stable hash of its :func:`join_key`, mod :data:`SALTS`.

    >>> salt_of(("urn:uuid:1", b"")) == salt_of(("urn:uuid:1", b"")), 0 <= salt_of(("x", b"1")) < SALTS
    (True, True)
    """
    return xxhash.xxh3_64_intdigest(key[0].encode("utf-8", "surrogatepass") + b"\x00" + key[1]) % SALTS


class _LineKeys(BundleTimer, beam.DoFn):
    def __init__(self, step: SiteBoilerplate):
        self.step = step

    def setup(self):
        self.time_us = Metrics.counter(metrics_namespace(self.step), STEP_TIME_METRIC)
        self.unkeyed = Metrics.counter(metrics_namespace(self.step), "unkeyed")

    def process(self, doc: Doc):
        t0 = time.perf_counter_ns()
        try:
            keys = self.step.line_keys(doc)
            digests = self.step.page_digests(doc) if keys else None
        except MemoryError:  # the worker's state, not the page's: the runner retries the bundle
            raise
        except Exception:  # a page the step cannot key is neither counted nor changed
            keys = []
            self.unkeyed.inc()
        member = join_key(doc, digests[0]) if keys else None
        salt = salt_of(member) if keys else 0
        self._time_ns += time.perf_counter_ns() - t0
        for k in keys:
            yield k, digests
            yield pvalue.TaggedOutput(MEMBER, ((k, salt), member))


class _DistinctPages(beam.CombineFn):
    """Whether a key occurs on >= ``min_pages`` pages that differ from each other
    in URL and in text.

    The accumulator maps page digest -> the smallest text digest seen on that
    page, for the ``4 * min_pages`` smallest page digests only (a bottom-k
    sample of the key's pages). Which pages those are, and each one's smallest
    text digest, do not depend on how inputs were split or merged, so the answer
    is deterministic; a page outside the sample had ``4 * min_pages`` smaller
    ones beside it in every partial accumulator. The key is frequent when the
    sampled pages hold ``min_pages`` distinct (smallest) texts: that many pages
    with their own URL and their own text. A page whose text changed between
    crawls (a view counter) is one page; copies of one text under many URLs are
    one text.
    """

    def __init__(self, min_pages: int):
        self.min_pages = min_pages
        self.sample = 4 * min_pages

    def create_accumulator(self):
        return {}

    def add_input(self, acc, digests):
        text, page = digests
        seen = acc.get(page)
        if seen is None:
            acc[page] = text
            if len(acc) > self.sample:
                del acc[max(acc)]
        elif text < seen:
            acc[page] = text
        return acc

    def merge_accumulators(self, accumulators):
        merged: dict[bytes, bytes] = {}
        for acc in accumulators:
            for page, text in acc.items():
                seen = merged.get(page)
                if seen is None or text < seen:
                    merged[page] = text
        if len(merged) > self.sample:
            merged = {p: merged[p] for p in sorted(merged)[:self.sample]}
        return merged

    def extract_output(self, acc):
        return len(set(acc.values())) >= self.min_pages


class _Markers(beam.DoFn):
    def setup(self):
        self.frequent = Metrics.counter(metrics_namespace(SiteBoilerplate), "boilerplate_keys")

    def process(self, element):
        key, frequent = element
        if frequent:
            self.frequent.inc()
            for s in range(SALTS):
                yield (key, s), None


def _members_of_frequent(element):
    (key, _), values = element
    values = reiterable(values)
    if any(v is None for v in values):
        for v in values:
            if v is not None:
                yield v, key


class _Strip(BundleTimer, beam.DoFn):
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
            self._time_ns += time.perf_counter_ns() - t0
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
        keyed_lines = docs | "LineKeys" >> beam.ParDo(_LineKeys(step)).with_outputs(MEMBER, main="counting")
        markers = (
            keyed_lines.counting
            | "CountPages" >> beam.CombinePerKey(_DistinctPages(step.min_pages))
            | "Markers" >> beam.ParDo(_Markers())
        )
        frequent = (
            (markers, keyed_lines[MEMBER])
            | "MarkersAndMembers" >> beam.Flatten()
            | "GroupMembers" >> beam.GroupByKey()
            | "Frequent" >> beam.FlatMap(_members_of_frequent)
        )
        keyed = docs | "KeyById" >> beam.Map(lambda d: (join_key(d), d))
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
