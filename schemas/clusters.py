"""Arrow schema of the near-duplicate clusters output (``clusters-*.parquet``).

One row per document that belongs to a duplicate cluster of size >= 2.

Version history:
    1: initial schema.
    2: ``cluster_id`` ends with the keeper's text digest (clusters kept by
       different texts under one repeated id were one cluster id).
"""

import pyarrow as pa

SCHEMA_VERSION = "2"

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
    "cluster_id": "`exact:<keeper id>:<digest>` or `near:<keeper id>:<digest>`, the digest 16 hex digits of the"
                  " keeper's text (one id can keep several texts)",
    "doc_id": "A member's document id",
    "kept": "Whether this member is the cluster's kept document",
    "size": "Members in the cluster",
    "kind": "`exact` (same text) or `near` (MinHash-LSH near duplicate)",
}
