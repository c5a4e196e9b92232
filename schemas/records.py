"""In-flight records passed between pipeline stages.

They are ``typing.NamedTuple``s: immutable (Beam elements must never be mutated),
cheap to pickle, and registered with Beam's ``RowCoder`` by ``pipeline``.

* :class:`Record` is one input record before extraction (raw payload bytes).
* :class:`Doc` is one document after extraction; every later stage returns a new
  ``Doc`` via ``doc._replace(...)``.
* :class:`Reject` is the audit record of a document that left the pipeline.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple


class Record(NamedTuple):
    """One input record (a WARC response, a JSONL line, an HTML file).

    Attributes:
        id: Stable document id (WARC-Record-ID, or a hash of source and offset).
        url: Target URI ('' if unknown).
        source: Input file the record came from.
        crawl_date: ISO-8601 capture date ('' if unknown).
        content_type: HTTP Content-Type header of the payload ('' if unknown).
        payload: Raw payload bytes (HTTP body) or UTF-8 text.
        kind: ``"html"`` for markup to extract, ``"text"`` for already-extracted
            text (WET records, JSONL ``text``).
        truncated: Why the payload is known to be incomplete ('' when it is not):
            ``WARC-Truncated: length``, a body short of its Content-Length, a
            compressed body cut short. Only kept with ``[io] truncated_pages = "keep"``.
    """

    id: str
    url: str
    source: str
    crawl_date: str
    content_type: str
    payload: bytes
    kind: str
    truncated: str = ""


class Doc(NamedTuple):
    """One document flowing through the per-document stages.

    Attributes:
        id: Stable document id, unique within a run.
        url: Source URL.
        source: Input file the document came from.
        crawl_date: ISO-8601 capture date ('' if unknown).
        text: Current text (extracted, then normalised, then PII-redacted).
        charset: Charset the payload was decoded with.
        lang: Language label from language identification ('' before it).
        lang_score: Confidence of ``lang`` in [0, 1].
        n_chars: Length of ``text`` in code points.
        n_tokens: Number of Sudachi morphemes (0 before tokenisation).
        quality: Score used to choose the keeper among duplicates (higher wins).
        scores: Every measurement of every stage, keyed ``<stage or filter>.<name>``,
            so thresholds can be re-decided later without re-scoring.
        pii: Count of redacted PII spans per type (``email``, ``phone``...).
    """

    id: str
    url: str
    source: str
    crawl_date: str
    text: str
    charset: str = ""
    lang: str = ""
    lang_score: float = 0.0
    n_chars: int = 0
    n_tokens: int = 0
    quality: float = 0.0
    scores: Mapping[str, float] = {}
    pii: Mapping[str, int] = {}


class Reject(NamedTuple):
    """The audit record of one document or input record that was not kept.

    Attributes:
        id: Document id (or ``<source>@<offset>`` for unreadable input).
        url: Source URL ('' if unknown).
        source: Input file.
        stage: Pipeline stage that rejected it (``read``, ``extract``, ``normalize``,
            ``langid``, ``tokenize``, ``filter``, ``pii``, ``dedup``).
        filter: Name of the filter within the stage (equals the stage for
            single-step stages).
        reason: One of the filter's declared reasons, or ``error.<ExceptionType>``.
        detail: Free text (exception message, unexpected record type...).
        scores: Measurements that led to the decision.
        dup_of: For duplicates, the id of the kept document.
        n_chars: Length of the text at rejection time (0 before extraction).
    """

    id: str
    url: str
    source: str
    stage: str
    filter: str
    reason: str
    detail: str = ""
    scores: Mapping[str, float] = {}
    dup_of: str = ""
    n_chars: int = 0
