"""Records and Arrow schemas of every furui output.

``schemas`` imports only pyarrow and the standard library. Each output has one
module exporting ``SCHEMA`` (a ``pa.Schema`` carrying ``schema_version``
metadata); :mod:`schemas.records` holds the in-flight records (``Record``,
``Doc``, ``Reject``) that the pipeline passes between stages.
"""

from schemas.records import Doc, Record, Reject

__all__ = ["Doc", "Record", "Reject"]
