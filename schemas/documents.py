"""Arrow schema of the documents output (``documents-*.parquet``).

``scores`` (and ``pii``) are ``{key, value}`` entry lists (see :mod:`schemas.types`).

Version history:
    1: initial schema.
    2: ``scores``/``pii`` stored as ``list<struct<key, value>>`` instead of ``map``.
"""

import pyarrow as pa

from schemas.types import COUNTS, SCORES

SCHEMA_VERSION = "2"

SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("url", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("crawl_date", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("charset", pa.string(), nullable=False),
        pa.field("lang", pa.string(), nullable=False),
        pa.field("lang_score", pa.float64(), nullable=False),
        pa.field("n_chars", pa.int64(), nullable=False),
        pa.field("n_tokens", pa.int64(), nullable=False),
        pa.field("quality", pa.float64(), nullable=False),
        pa.field("scores", SCORES, nullable=False),
        pa.field("pii", COUNTS, nullable=False),
    ],
    metadata={"schema_version": SCHEMA_VERSION, "furui_output": "documents"},
)

#: What each column holds (the README's schema tables and the dataset card show it).
DESCRIPTIONS = {
    "id": "Document id: the WARC-Record-ID, the JSONL `id`, or a hash of the file path and the record's offset",
    "url": "The page's URL ('' if unknown)",
    "source": "The input file the record was read from",
    "crawl_date": "Capture date, ISO 8601 ('' if unknown)",
    "text": "Main text: extracted, normalised, with site boilerplate and PII (as typed tokens such as <EMAIL>) removed",
    "charset": "Charset the page was decoded with",
    "lang": "Language label from language identification (fastText lid.176)",
    "lang_score": "Language identification's probability of `lang`",
    "n_chars": "Length of `text` in code points",
    "n_tokens": "Sudachi morphemes counted by the `tokenize` step (0 if it did not run)",
    "quality": "The dedup keeper's preference: language identification's probability that the text is in a "
               "wanted language (not a quality model's score)",
    "scores": "Every measurement of every step, keyed `<step>.<measure>`, so thresholds can be re-decided later",
    "pii": "PII spans redacted in `text`, per type",
}
