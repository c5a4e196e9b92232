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

#: What each column holds (the README's schema tables show it).
DESCRIPTIONS = {
    "cluster_id": "`exact:<keeper id>` or `near:<keeper id>`",
    "doc_id": "A member's document id",
    "kept": "Whether this member is the cluster's kept document",
    "size": "Members in the cluster",
    "kind": "`exact` (same text) or `near` (MinHash-LSH near duplicate)",
}
