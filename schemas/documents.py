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
