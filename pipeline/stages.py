"""Beam stages: reading, extraction and the generic per-document step.

Every stage is a composite ``PTransform`` whose ``expand`` only composes. A
stage's DoFn yields kept elements on the main output and rejects on the
``rejected`` tagged output; exceptions are caught per element, counted and
turned into rejects with reason ``error.<ExceptionType>``: nothing is dropped
silently and no document can crash the job.

Metrics (for monitoring; the rejects table is the audit record):
``furui.read``, ``furui.extract``, ``furui.<stage>`` and ``furui.filter.<name>``
with counters ``in``, ``kept``, ``dropped.<reason>``, ``error.<Type>``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Iterable

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from filters.base import Filter
from pipeline.extract import (
    ExtractionTimeout,
    ExtractOptions,
    Extractor,
    ExtractorCrashed,
    TooDeep,
    check_extraction_works,
    decode_html,
    decode_text,
    looks_binary,
)
from pipeline.report import STEP_TIME_METRIC, step_namespace
from schemas.records import Doc, Record, Reject

REJECTED = "rejected"
KEPT = "kept"

# Stable step-label prefixes per stage (renaming breaks job updates and metrics).
STAGE_LABELS = {
    "normalize": "Normalize",
    "langid": "IdentifyLanguage",
    "tokenize": "Tokenize",
    "filter": "Filter",
    "pii": "RedactPii",
    "boilerplate": "SiteBoilerplate",
}

EXTRACT_REASONS = ("binary_payload", "no_text", "timeout", "crashed", "too_deep")

log = logging.getLogger(__name__)


class Progress:
    """Per-process progress line on stderr, at most every ``FURUI_PROGRESS_SECONDS`` (10 s).

    Each worker process prints its own line, so a long local run shows it is alive
    and how fast it goes: the records it read, the pages it extracted, how many of
    those passed every per-document step, and pages per second. With several
    workers, the one that reads a file is not always the one that extracts its
    pages, so each part is counted where it happened. ``FURUI_PROGRESS_SECONDS=0``
    turns it off.

    >>> p = Progress(); p.interval = 10
    >>> p.read, p.extracted, p.passed, p.started, p.last = 7367, 0, 0, 0.0, 0.0
    >>> p.line(10.0)
    '7,367 records read (737 records/s)'
    >>> p.read, p.extracted, p.passed = 0, 900, 673
    >>> p.line(10.0)
    '900 pages extracted, 673 passed the filters (75%), 90 pages/s'
    """

    def __init__(self) -> None:
        self.read = self.extracted = self.passed = 0
        self.started = self.last = 0.0
        try:
            self.interval = float(os.environ.get("FURUI_PROGRESS_SECONDS", "10"))
        except ValueError:
            self.interval = 10.0
        self.lock = threading.Lock()

    def tick(self, read: int = 0, extracted: int = 0, passed: int = 0) -> None:
        if self.interval <= 0:
            return
        with self.lock:
            now = time.monotonic()
            if not self.started:
                self.started = self.last = now
            self.read += read
            self.extracted += extracted
            self.passed += passed
            if now - self.last < self.interval:
                return
            self.last = now
            line = self.line(now - self.started)
        print(f"[furui] worker {os.getpid()}: {line}", file=sys.stderr, flush=True)

    def line(self, elapsed: float) -> str:
        """What this worker has done so far, in ``elapsed`` seconds.

        >>> p = Progress(); p.read, p.extracted = 100, 80
        >>> p.line(2.0)
        '100 records read, 80 pages extracted, 40 pages/s'
        >>> p.passed = 20; p.line(2.0)
        '100 records read, 80 pages extracted, 20 passed the filters (25%), 40 pages/s'
        """
        elapsed = max(elapsed, 1e-9)
        parts = []
        if self.read:
            parts.append(f"{self.read:,} records read" + ("" if self.extracted else
                                                           f" ({self.read / elapsed:,.0f} records/s)"))
        if self.extracted:
            # Nothing passed yet is not "0% pass": a corpus-wide step (site
            # boilerplate) holds every page until extraction has finished.
            passed = (f"{self.passed:,} passed the filters ({100.0 * self.passed / self.extracted:.0f}%), "
                      if self.passed else "")
            parts.append(f"{self.extracted:,} pages extracted, {passed}{self.extracted / elapsed:,.0f} pages/s")
        return ", ".join(parts) or "started"


PROGRESS = Progress()


def _truncate(msg: str, n: int = 300) -> str:
    return msg if len(msg) <= n else msg[: n - 1] + "…"


class _Counters:
    """Counters of one stage, created once per DoFn instance in ``setup``."""

    def __init__(self, namespace: str, reasons: Iterable[str]):
        self.namespace = namespace
        self.c_in = Metrics.counter(namespace, "in")
        self.c_kept = Metrics.counter(namespace, "kept")
        self.dropped = {r: Metrics.counter(namespace, f"dropped.{r}") for r in reasons}
        self.errors: dict[str, object] = {}

    def drop(self, reason: str) -> None:
        if reason.startswith("error."):
            c = self.errors.get(reason)
            if c is None:
                c = self.errors[reason] = Metrics.counter(self.namespace, reason)
            c.inc()
        else:
            self.dropped[reason].inc()


# ---------------------------------------------------------------------------
# Reading


def _read_reject(counters: _Counters, source: str, id_: str, reason: str, detail: str) -> pvalue.TaggedOutput:
    """A read-stage reject of a whole file or list line (no record of it was read),
    counted as one record in and one dropped for ``reason``."""
    counters.c_in.inc()
    counters.drop(reason)
    return pvalue.TaggedOutput(REJECTED, Reject(id=id_, url="", source=source, stage="read", filter="read",
                                                reason=reason, detail=_truncate(detail)))


class _ReadFileFn(beam.DoFn):
    def __init__(self, max_payload_bytes: int, keep_truncated_pages: bool = False):
        self.max_payload_bytes = max_payload_bytes
        self.keep_truncated_pages = keep_truncated_pages

    def setup(self):
        from pipeline.readers import READ_REASONS

        self.counters = _Counters("furui.read", READ_REASONS)
        self.c_files = Metrics.counter("furui.read", "files")
        self.c_retries = Metrics.counter("furui.read", "storage_retries")

    def process(self, path: str | bytes):
        from pipeline.readers import RetryingFile, read_records

        self.c_files.inc()
        # A file name that is not UTF-8 travels as its bytes (see ``path_element``):
        # it is opened by its real name and shown, in ids and ``source``, with those
        # bytes escaped (``\x93``), so two such names stay two sources and two id spaces.
        path = path.decode("utf-8", "surrogateescape") if isinstance(path, bytes) else path
        shown = shown_path(path)
        # Storage errors are retried by reopening at the same byte (RetryingFile),
        # so a transient one leaves no trace in the output; they are counted.
        fh = RetryingFile(lambda: FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED))
        try:
            problem = _not_a_file(path)
            if problem:
                raise OSError(problem)
            fh.read(0)  # opens the file (with retries)
        except Exception as exc:  # unreadable file: one counted reject, never a crash
            if fh.retried:
                self.c_retries.inc(fh.retried)
            yield _read_reject(self.counters, shown, f"{shown}@0", "unreadable_file", f"{type(exc).__name__}: {exc}")
            return
        with fh:
            for item in read_records(fh, shown, max_payload_bytes=self.max_payload_bytes,
                                     keep_truncated_pages=self.keep_truncated_pages):
                self.counters.c_in.inc()
                PROGRESS.tick(read=1)
                if isinstance(item, Reject):
                    self.counters.drop(item.reason)
                    yield pvalue.TaggedOutput(REJECTED, item)
                else:
                    self.counters.c_kept.inc()
                    yield item
        if fh.retried:
            self.c_retries.inc(fh.retried)
            log.warning("read %s: %d storage error(s) retried by reopening the file", shown, fh.retried)


def _not_a_file(path: str) -> str:
    """Why a local path cannot be read as a file ('' when it can, or is remote).

    A FIFO or device would block the read forever, and a broken symbolic link
    has nothing to read: each becomes an ``unreadable_file`` reject.
    """
    import stat

    if "://" in path:
        return ""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            return f"broken symbolic link (to {os.readlink(path)!r})"
        return ""  # gone since the listing: the open below says so
    except OSError:
        return ""
    if stat.S_ISREG(mode):
        return ""
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else \
        "a directory" if stat.S_ISDIR(mode) else "a device"
    return f"not a regular file but {kind}"


def shown_path(path: str) -> str:
    r"""``path`` as it can be written (ids, ``source``, logs): a name that is not
    UTF-8 keeps its bytes, escaped, so different names never show the same.

    >>> shown_path("crawl/a.warc"), shown_path("crawl/\udc93\udcfa.jsonl")
    ('crawl/a.warc', 'crawl/\\x93\\xfa.jsonl')
    """
    from pipeline.readers import utf8_safe

    if _is_utf8(path):
        return path
    try:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no file system decoding makes
        return utf8_safe(path)


def _is_utf8(path: str) -> bool:
    """Whether ``path`` encodes as UTF-8 (it has no lone surrogates)."""
    try:
        path.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def path_element(metadata) -> str | bytes:
    r"""A matched file's path as a pipeline element: its name, or its bytes when the
    name is not UTF-8 (a local file named in Shift_JIS, say, which ``os`` decodes
    with ``surrogateescape``): Beam's string coder cannot carry such a name.

    >>> from apache_beam.io.filesystem import FileMetadata
    >>> path_element(FileMetadata("crawl/a.warc.gz", 1)), path_element("crawl/\udc8aa.warc")
    ('crawl/a.warc.gz', b'crawl/\x8aa.warc')
    """
    path = metadata if isinstance(metadata, str) else metadata.path
    return path if _is_utf8(path) else path.encode("utf-8", "surrogateescape")


def file_key(path: str | bytes) -> str | bytes:
    """What names one file however it is spelled: a local path made absolute and
    normalised (``crawl/a.warc``, ``./crawl//a.warc`` and ``/work/crawl/a.warc``
    from ``/work``), a remote one as it is.

    >>> file_key("s3://b/x/../a.warc") == "s3://b/x/../a.warc", file_key("/d/./x//a.warc")
    (True, '/d/x/a.warc')
    """
    if (b"://" if isinstance(path, bytes) else "://") in path:
        return path
    return os.path.abspath(path)


def first_spelling(paths: Iterable[str | bytes]) -> str | bytes:
    """Of the spellings of one file (:func:`file_key`), the one it is read and named
    by: the smallest, so the choice is the same on every run and runner.

    >>> first_spelling(["/work/crawl/a.warc", "crawl/a.warc"])
    '/work/crawl/a.warc'
    """
    return min(paths, key=lambda p: p if isinstance(p, bytes) else p.encode("utf-8", "surrogateescape"))


def broken_links(pattern: str) -> Iterable[str | bytes]:
    """Local symbolic links matching ``pattern`` whose target is missing.

    Beam's local listing skips them (their size cannot be read), which would drop
    them without a trace; they are read instead, as ``unreadable_file`` rejects.
    Remote patterns have no such links.
    """
    import re

    if "://" in pattern:
        return ()
    prefix = re.match(r"^[^[*?]*", pattern).group(0)
    root = prefix if os.path.isdir(prefix) else os.path.dirname(prefix) or "."
    if prefix == pattern or not os.path.isdir(root):
        return ()  # a plain path: the CLI checked it exists
    # Not a generator itself: Beam warns of a generator's early "return" on every run.
    return _broken_links_under(root, pattern)


def _broken_links_under(root: str, pattern: str) -> Iterable[str | bytes]:
    import re

    from apache_beam.io.filesystem import FileSystem

    wanted = re.compile(FileSystem.translate_pattern(pattern))
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            if os.path.islink(path) and not os.path.exists(path) and wanted.match(path):
                yield path_element(path)


class _ListInputsFn(beam.DoFn):
    """An input list (``(list path, base)``) to the paths and patterns it names
    (``pipeline.input_lists``); lines that cannot be one, and a list that cannot
    be read, are counted read-stage rejects."""

    retry_pause_s = 0.25  # RetryingFile's first pause (tests shorten it)

    def setup(self):
        from pipeline.readers import READ_REASONS

        self.counters = _Counters("furui.read", READ_REASONS)
        self.c_entries = Metrics.counter("furui.read", "list_entries")

    def process(self, element):
        from pipeline.card import embeds_credentials, strip_userinfo
        from pipeline.input_lists import decompressed, iter_entries, resolve_entry
        from pipeline.readers import ReadFailed, RetryingFile

        list_path, base = element
        shown = strip_userinfo(shown_path(list_path))
        fh = RetryingFile(lambda: FileSystems.open(list_path, compression_type=CompressionTypes.UNCOMPRESSED),
                          pause_s=self.retry_pause_s)
        line = 0
        try:
            for line, entry, problem in iter_entries(decompressed(list_path, fh)):
                path = None if entry is None else resolve_entry(entry, base)
                # Checked once the prefix is on: "KEY:SECRET@bucket/x" under "s3://" is a URL with credentials.
                if path is not None and embeds_credentials(path):
                    path, problem = None, "embeds credentials in its URL (use the storage's credential chain)"
                if path is None:
                    yield _read_reject(self.counters, shown, f"{shown}:{line}", "bad_list_entry", f"line {line}: {problem}")
                    continue
                self.c_entries.inc()
                yield path
        except Exception as exc:  # noqa: BLE001 - cannot open, read or decompress: one counted reject
            # RetryingFile has retried a transient error; ReadFailed names the one that lasted.
            detail = str(exc) if isinstance(exc, ReadFailed) else f"{type(exc).__name__}: {exc}"
            if fh.pos == 0:
                yield _read_reject(self.counters, shown, f"{shown}:1", "unreadable_file", detail)
            else:  # the rest of the list is unread
                yield _read_reject(self.counters, shown, f"{shown}:{line + 1}", "read_error", f"after line {line}: {detail}")
        finally:
            fh.close()


class _MatchFn(beam.DoFn):
    """A path or pattern, from the command line or an input list, to the files it names.

    A plain path is passed on unlisted (one storage call fewer per file; a
    missing one, or a broken symbolic link, is an ``unreadable_file`` reject when
    it is opened). A pattern that matches nothing, or cannot be listed, is an
    ``unreadable_file`` reject: the driver refuses such a pattern on the command
    line (it can still vanish before the workers list it), and one line of a list
    of thousands must neither stop a run nor be dropped without a trace. Broken
    symbolic links, which Beam's local listing skips, are passed on too.
    """

    def setup(self):
        from pipeline.readers import READ_REASONS

        self.counters = _Counters("furui.read", READ_REASONS)

    def process(self, pattern: str):
        from pipeline.input_lists import has_glob
        from pipeline.readers import retry_call

        if not has_glob(pattern):
            yield path_element(pattern)
            return
        try:
            found = [path_element(m) for m in retry_call(lambda: FileSystems.match([pattern])[0]).metadata_list]
            found += broken_links(pattern)
            problem = "" if found else "no file matches this pattern"
        except Exception as exc:  # noqa: BLE001 - one counted reject, never a crash
            found, problem = [], f"cannot list: {type(exc).__name__}: {exc}"
        if problem:
            shown = shown_path(pattern)
            yield _read_reject(self.counters, shown, f"{shown}@0", "unreadable_file", problem)
        yield from found


class ReadWarc(beam.PTransform):
    """Reads WARC/ARC/WET/JSONL/HTML files matching ``patterns`` into ``Record``s.

    Globs are expanded inside the pipeline (:class:`_MatchFn`) and the file
    list is shuffled so files, not records, are spread over workers.
    ``lists`` are input lists (``(list path, base)``, ``pipeline.input_lists``),
    read and matched inside the pipeline too. Returns ``kept`` (Records) and
    ``rejected`` (Rejects).
    """

    def __init__(self, patterns: list[str], max_payload_bytes: int, reshuffle_records: bool = False,
                 keep_truncated_pages: bool = False, lists: Iterable[tuple[str, str]] = ()):
        super().__init__()
        self.patterns = list(patterns)
        self.max_payload_bytes = max_payload_bytes
        self.reshuffle_records = reshuffle_records
        self.keep_truncated_pages = keep_truncated_pages
        self.lists = [tuple(x) for x in lists]

    def expand(self, pbegin):
        matched = (pbegin
                   | "Patterns" >> beam.Create(self.patterns)
                   | "Match" >> beam.ParDo(_MatchFn()).with_outputs(REJECTED, main="paths"))
        found, match_rejects = [matched["paths"]], [matched[REJECTED]]
        if self.lists:
            entries = (pbegin
                       | "InputLists" >> beam.Create(self.lists)
                       | "ListEntries" >> beam.ParDo(_ListInputsFn()).with_outputs(REJECTED, main="entries"))
            # Distinct: a line repeated (or two lists naming one glob) is listed, and
            # rejected, once; its shuffle also spreads one list's globs over the workers.
            listed = (entries["entries"]
                      | "DistinctEntries" >> beam.Distinct()
                      | "MatchListed" >> beam.ParDo(_MatchFn()).with_outputs(REJECTED, main="paths"))
            found.append(listed["paths"])
            match_rejects += [entries[REJECTED], listed[REJECTED]]
        paths = (found
                 | "AllPaths" >> beam.Flatten()
                 | "FileKey" >> beam.Map(lambda p: (file_key(p), p))
                 | "Dedupe" >> beam.CombinePerKey(first_spelling)
                 | "OnePath" >> beam.Values())
        out = paths | "ReadFile" >> beam.ParDo(_ReadFileFn(self.max_payload_bytes, self.keep_truncated_pages)).with_outputs(
            REJECTED, main=KEPT
        )
        rejected = [out[REJECTED], *match_rejects] | "ReadRejects" >> beam.Flatten()
        kept = out[KEPT] | "Spread" >> beam.Reshuffle() if self.reshuffle_records else out[KEPT]
        return {KEPT: kept, REJECTED: rejected}


# ---------------------------------------------------------------------------
# Extraction


class BundleTimer:
    """DoFn mixin: worker time added to ``self._time_ns`` is flushed to the
    ``self.time_us`` counter once per bundle, not once per element."""

    def start_bundle(self):
        self._time_ns = 0

    def finish_bundle(self):
        if self._time_ns:
            self.time_us.inc(self._time_ns // 1000)
            self._time_ns = 0


class _ExtractFn(BundleTimer, beam.DoFn):
    def __init__(self, options: ExtractOptions, timeout_s: float, isolate: bool):
        self.options = options
        self.timeout_s = timeout_s
        self.isolate = isolate
        self.extractor = None

    def setup(self):
        # setup() may run more than once per worker: only start what is missing.
        if self.extractor is None:
            extractor = Extractor(self.options, self.timeout_s, self.isolate)
            try:
                check_extraction_works(self.options, extractor)
            except BaseException:
                # Beam does not call teardown() when setup() raises: stop the
                # probe's child here, and keep self.extractor unset so a retried
                # setup() probes again.
                extractor.close()
                raise
            self.extractor = extractor
        self.counters = _Counters("furui.extract", EXTRACT_REASONS)
        self.chars = Metrics.distribution("furui.extract", "chars_out")
        self.time_us = Metrics.counter("furui.extract", STEP_TIME_METRIC)

    def teardown(self):
        if self.extractor is not None:
            self.extractor.close()
            self.extractor = None

    def _reject(self, rec: Record, reason: str, detail: str = "", charset: str = ""):
        self.counters.drop(reason)
        return pvalue.TaggedOutput(
            REJECTED,
            Reject(id=rec.id, url=rec.url, source=rec.source, stage="extract", filter="extract",
                   reason=reason, detail=_truncate(detail or charset)),
        )

    def process(self, rec: Record):
        self.counters.c_in.inc()
        PROGRESS.tick(extracted=1)
        # Timed without the yields: downstream DoFns run inside a yield.
        t0 = time.perf_counter_ns()
        text, charset, reject = self._extract(rec)
        self._time_ns += time.perf_counter_ns() - t0
        if reject is not None:
            yield self._reject(rec, *reject)
            return
        if not text.strip():
            yield self._reject(rec, "no_text", charset=charset)
            return
        self.counters.c_kept.inc()
        self.chars.update(len(text))
        # A page kept although cut short ([io] truncated_pages = "keep") says so in
        # its scores, so it can be filtered later.
        yield Doc(id=rec.id, url=rec.url, source=rec.source, crawl_date=rec.crawl_date,
                  text=text, charset=charset, n_chars=len(text),
                  scores={"read.truncated": 1.0} if rec.truncated else {})

    def _extract(self, rec: Record) -> tuple[str, str, tuple[str, str] | None]:
        """``(text, charset, None)``, or ``("", "", (reason, detail))`` for a reject."""
        try:
            if rec.kind == "text":
                text, charset = decode_text(rec.payload, rec.content_type)
                return text, charset, None
            html, charset = decode_html(rec.payload, rec.content_type)
            if looks_binary(html):
                return "", "", ("binary_payload", f"content-type={rec.content_type!r}")
            return self.extractor.extract(html, rec.url), charset, None
        except ExtractionTimeout as exc:
            return "", "", ("timeout", str(exc))
        except ExtractorCrashed as exc:
            return "", "", ("crashed", str(exc))
        except TooDeep as exc:
            return "", "", ("too_deep", str(exc))
        except MemoryError:  # the worker's state, not the page's: the runner retries the bundle
            raise
        except Exception as exc:  # any other failure: a counted reject, never a crash
            return "", "", (f"error.{type(exc).__name__}", f"{type(exc).__name__}: {exc}")


class ExtractText(beam.PTransform):
    """Decodes each HTML record's charset and extracts its main text with trafilatura.

    Text records (WET, JSONL ``text``) are decoded (the charset their Content-Type
    declares, else UTF-8) and passed through.
    Reasons: ``binary_payload``, ``no_text``, ``timeout``, ``crashed``, ``too_deep``, ``error.<Type>``.
    """

    def __init__(self, options: ExtractOptions, timeout_s: float = 10.0, isolate: bool = True):
        super().__init__()
        self.options = options
        self.timeout_s = timeout_s
        self.isolate = isolate

    def expand(self, records):
        return records | "Extract" >> beam.ParDo(
            _ExtractFn(self.options, self.timeout_s, self.isolate)
        ).with_outputs(REJECTED, main=KEPT)


# ---------------------------------------------------------------------------
# The generic per-document step


def metrics_namespace(step: Filter) -> str:
    """``furui.filter.<name>`` for quality filters, ``furui.<stage>`` otherwise."""
    return step_namespace(step.stage, step.name)


class _StepState:
    """One step inside a ``_StepsFn``: the step, its counters and its score prefix."""

    def __init__(self, step: Filter):
        step.load()  # idempotent
        ns = metrics_namespace(step)
        self.step = step
        self.counters = _Counters(ns, step.reasons)
        self.chars_in = Metrics.distribution(ns, "chars_in")
        # Worker time spent in this step, summed per bundle (one counter update
        # per step and bundle, not per document): the per-step breakdown of a
        # fused DoFn, which runner UIs can only show as one transform.
        self.time_us = Metrics.counter(ns, STEP_TIME_METRIC)
        self.prefix = step.name + "."


class _StepsFn(beam.DoFn):
    """Runs consecutive per-document steps in one DoFn (one Beam hop, not one per step).

    Per step it keeps exactly what a DoFn per step would: its own counters, its
    own rejects, scores merged into ``doc.scores`` before the next step reads them.

    With ``batched`` the elements are lists of documents and the kept ones leave
    as one list: every step runs over the whole batch before the next step
    starts (step-major), so each model (fastText, the Sudachi dictionary, lookup
    tables) stays in the CPU caches for a batch instead of being evicted by
    trafilatura's work between two pages. Measured on 1,000 pages
    (``bench/bench_step_order.py``): the steps cost 2.6-3.0 instead of 4.0-4.8 ms
    per document. Each document's result does not depend on its batch.
    """

    def __init__(self, steps: tuple[Filter, ...], batched: bool = False):
        self.steps = tuple(steps)
        self.batched = batched
        self.states: list[_StepState] = []

    def setup(self):
        self.states = [_StepState(step) for step in self.steps]

    def start_bundle(self):
        self._time_ns = [0] * len(self.states)

    def finish_bundle(self):
        for st, ns in zip(self.states, self._time_ns):
            if ns:
                st.time_us.inc(ns // 1000)
        self._time_ns = [0] * len(self.states)

    def _reject(self, st: _StepState, doc: Doc, reason: str, scores: dict, detail: str = ""):
        st.counters.drop(reason)
        return pvalue.TaggedOutput(
            REJECTED,
            Reject(id=doc.id, url=doc.url, source=doc.source, stage=st.step.stage,
                   filter=st.step.name, reason=reason, detail=_truncate(detail), scores=scores,
                   n_chars=len(doc.text)),
        )

    def process(self, element):
        # Fresh score dicts owned by this DoFn: later steps read earlier scores
        # from doc.scores, and the input elements are never mutated.
        alive = [d._replace(scores=dict(d.scores)) for d in (element if self.batched else (element,))]
        spent = self._time_ns
        for i, st in enumerate(self.states):
            if not alive:
                return
            step = st.step
            st.counters.c_in.inc(len(alive))
            kept: list[Doc] = []
            rejects = []
            t0 = time.perf_counter_ns()
            for doc in alive:
                st.chars_in.update(len(doc.text))
                try:
                    new, scores = step.apply(doc)
                    reason = step.decide(scores)
                    detail = "" if reason is None else step.detail(new, scores, reason)
                    # Inside the try: a score that is not a number (a custom step's
                    # None) rejects its document, not the bundle.
                    prefixed = {st.prefix + k: float(v) for k, v in scores.items()}
                except MemoryError:
                    # The worker's state, not the document's: a reject would depend on
                    # what else the worker held. The runner retries the bundle.
                    raise
                except Exception as exc:  # a failing step rejects this document only
                    rejects.append(self._reject(st, doc, f"error.{type(exc).__name__}", {},
                                                f"{type(exc).__name__}: {exc}"))
                    continue
                if reason is None:
                    merged = doc.scores
                    merged.update(prefixed)
                    kept.append(new if new.scores is merged else new._replace(scores=merged))
                elif reason not in step.reasons:
                    # A filter returned a reason it never declared: a bug, made visible
                    # in the rejects table and the counters rather than a crash.
                    rejects.append(self._reject(st, doc, "error.UndeclaredReason", prefixed,
                                                f"undeclared reason {reason!r}"))
                else:
                    rejects.append(self._reject(st, doc, reason, prefixed, detail))
            spent[i] += time.perf_counter_ns() - t0
            if kept:
                st.counters.c_kept.inc(len(kept))
            yield from rejects  # outside the timed part: downstream work runs inside a yield
            alive = kept
        if alive:
            if self.batched:
                yield alive
            else:
                yield alive[0]


class _CountPassed(beam.DoFn):
    def process(self, doc: Doc):
        PROGRESS.tick(passed=1)
        yield doc


class ReportProgress(beam.PTransform):
    """Pass-through that feeds the per-worker progress line (documents that passed)."""

    def expand(self, docs):
        return docs | "Count" >> beam.ParDo(_CountPassed())


class ApplySteps(beam.PTransform):
    """Applies consecutive per-document steps (normalisers, LID, tokenizer, filters, redactor).

    This is the only code that emits per-step metrics. The steps run in one DoFn,
    in order; a document leaves at the first step that rejects it. Returns a
    ``DoOutputsTuple`` with ``kept`` Docs (each step's scores merged under
    ``<name>.``) and ``rejected`` Rejects. With ``batched=True`` the input and the
    ``kept`` output are lists of Docs (see :func:`batch_docs`), processed step-major.
    """

    def __init__(self, steps, batched: bool = False):
        super().__init__()
        self.steps = tuple(steps)
        self.batched = batched

    def expand(self, docs):
        return docs | "Apply" >> beam.ParDo(_StepsFn(self.steps, self.batched)).with_outputs(REJECTED, main=KEPT)


# Documents per batch of the per-document steps: enough to keep each model hot in
# the caches for a while, small enough that a batch of pages is a few MB at most.
STEP_BATCH_SIZE = 64
# Characters of text per batch, whatever the count: a JSONL corpus of books or dumps
# (up to ``[io] max_payload_bytes`` each) would otherwise make a batch of 64 or 256
# documents gigabytes. A document longer than this is a batch of its own.
BATCH_MAX_CHARS = 4_000_000


class _BatchDocs(beam.DoFn):
    """Lists of consecutive documents of a bundle, at most ``max_docs`` of them and
    at most ``max_chars`` characters of text (unless one document alone is longer).

    Batches are per bundle and depend on bundle boundaries, which is harmless: every
    step and the signatures treat each document of a batch on its own.
    """

    def __init__(self, max_docs: int, max_chars: int = BATCH_MAX_CHARS):
        if max_docs < 1 or max_chars < 1:
            raise ValueError(f"batch limits must be positive: {max_docs} documents, {max_chars} characters")
        self.max_docs = max_docs
        self.max_chars = max_chars

    def start_bundle(self):
        self._batch: list[Doc] = []
        self._chars = 0

    def process(self, doc: Doc):
        n = len(doc.text)
        if self._batch and (len(self._batch) >= self.max_docs or self._chars + n > self.max_chars):
            yield self._batch
            self._batch, self._chars = [], 0
        self._batch.append(doc)
        self._chars += n

    def finish_bundle(self):
        from apache_beam.transforms.window import GlobalWindows

        if self._batch:
            yield GlobalWindows.windowed_value_at_end_of_window(self._batch)
        self._batch, self._chars = [], 0


def batch_docs(docs, size: int = STEP_BATCH_SIZE, label: str = "Batch", max_chars: int = BATCH_MAX_CHARS):
    """Lists of up to ``size`` documents and ``max_chars`` characters (per bundle),
    for ``ApplySteps(batched=True)`` and the dedup signatures."""
    return docs | label >> beam.ParDo(_BatchDocs(size, max_chars))


def _each(batch):
    return batch


def unbatch_docs(batches):
    """The documents of :func:`batch_docs` lists, one element each again."""
    return batches | "Unbatch" >> beam.FlatMap(_each)


class ApplyFilter(ApplySteps):
    """:class:`ApplySteps` for a single step."""

    def __init__(self, step: Filter):
        super().__init__((step,))


def group_steps(steps) -> list[tuple[str, tuple[Filter, ...]]]:
    """Groups consecutive steps of the same stage, each group labelled stably.

    One group is one DoFn (one Beam hop per document): ``Normalize``,
    ``IdentifyLanguage``, ``Filter/<first>..<last>``, ``Tokenize``, ``RedactPii``.
    """
    groups: list[list[Filter]] = []
    for step in steps:
        if groups and groups[-1][0].stage == step.stage:
            groups[-1].append(step)
        else:
            groups.append([step])
    out = []
    for g in groups:
        prefix = STAGE_LABELS.get(g[0].stage, g[0].stage.title())
        names = g[0].name if len(g) == 1 else f"{g[0].name}..{g[-1].name}"
        out.append((f"{prefix}/{names}", tuple(g)))
    return out
