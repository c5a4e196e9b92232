"""Arrow types shared by several output schemas."""

import pyarrow as pa

#: Measurements keyed by ``<step>.<score>``, as ``{key, value}`` entries sorted by key.
#: Not an Arrow map: Hugging Face ``datasets`` cannot load map columns; DuckDB turns
#: the entries back into a map with ``map_from_entries(scores)``.
#: The list's item is named ``element``, as Parquet writes it (pyarrow's own default name,
#: ``item``, compares equal but was not what a reader of the files sees).
SCORES = pa.list_(pa.field("element", pa.struct([pa.field("key", pa.string(), nullable=False),
                                                 pa.field("value", pa.float64(), nullable=False)])))

#: Counts keyed by name (PII types), in the same entry form as :data:`SCORES`.
COUNTS = pa.list_(pa.field("element", pa.struct([pa.field("key", pa.string(), nullable=False),
                                                 pa.field("value", pa.int64(), nullable=False)])))
