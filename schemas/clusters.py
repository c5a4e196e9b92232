"""Arrow schema of the near-duplicate clusters output (``clusters-*.parquet``).

One row per document that belongs to a duplicate cluster of size >= 2.

Version history:
    1: initial schema.
"""

import pyarrow as pa

SCHEMA_VERSION = "1"

SCHEMA = pa.schema(
    [
        pa.field("cluster_id", pa.string(), nullable=False),
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("kept", pa.bool_(), nullable=False),
        pa.field("size", pa.int64(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
    ],
    metadata={"schema_version": SCHEMA_VERSION, "furui_output": "clusters"},
)
