"""Arrow schema of the rejects output (``rejects-*.parquet``).

One row per input record or document that did not reach the documents output.
The thresholds in force are not repeated per row: the run's config is copied
next to the outputs and its SHA-256 is in every file's metadata.

``scores`` (and ``pii``) are ``{key, value}`` entry lists (see :mod:`schemas.types`).

Version history:
    1: initial schema.
    2: ``scores``/``pii`` stored as ``list<struct<key, value>>`` instead of ``map``.
"""

import pyarrow as pa

from schemas.types import SCORES

SCHEMA_VERSION = "2"

SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("url", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("filter", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string(), nullable=False),
        pa.field("scores", SCORES, nullable=False),
        pa.field("dup_of", pa.string(), nullable=False),
        pa.field("n_chars", pa.int64(), nullable=False),
    ],
    metadata={"schema_version": SCHEMA_VERSION, "furui_output": "rejects"},
)

#: What each column holds (the README's schema tables show it).
DESCRIPTIONS = {
    "id": "Document id, or `<source>@<offset>` for damaged input without an id of its own",
    "url": "The page's URL ('' if unknown)",
    "source": "The input file the record was read from",
    "stage": "Pipeline stage that rejected it (`read`, `extract`, `langid`, `filter`, `dedup`, ...)",
    "filter": "The step within the stage",
    "reason": "One of the step's declared reasons, or `error.<ExceptionType>`",
    "detail": "What was measured or went wrong, in words (`ratio=0.05442`)",
    "scores": "The measurements made before the decision",
    "dup_of": "For duplicates, the id of the keeper of the group or cluster (an exact group's keeper can itself "
              "be a near duplicate: follow `dup_of` again); '' otherwise",
    "n_chars": "Length of the text when rejected (0 before extraction)",
}
