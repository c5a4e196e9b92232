"""Arrow schema of the funnel statistics (``stats.parquet``), the ``funnel`` of ``stats.json`` as rows.

One row per (stage, filter, reason) count. ``reason == "kept"`` rows carry the
number of documents that left the stage on the main output.

Version history:
    1: initial schema.
"""

import pyarrow as pa

SCHEMA_VERSION = "1"

SCHEMA = pa.schema(
    [
        pa.field("stage", pa.string(), nullable=False),
        pa.field("filter", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("count", pa.int64(), nullable=False),
    ],
    metadata={"schema_version": SCHEMA_VERSION, "furui_output": "stats"},
)

#: What each column holds (the README's schema tables show it).
DESCRIPTIONS = {
    "stage": "Pipeline stage",
    "filter": "The step within the stage",
    "reason": "A reason records were dropped, or `kept` for those that left the step on its main output",
    "count": "Records",
}
