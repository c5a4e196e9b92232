"""Arrow schema of the documents output (``documents-*.parquet``).

Version history:
    1: initial schema.
"""

import pyarrow as pa

SCHEMA_VERSION = "1"

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
        pa.field("scores", pa.map_(pa.string(), pa.float64()), nullable=False),
        pa.field("pii", pa.map_(pa.string(), pa.int64()), nullable=False),
    ],
    metadata={"schema_version": SCHEMA_VERSION, "furui_output": "documents"},
)
