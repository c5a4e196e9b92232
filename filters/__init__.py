"""Pure, Beam-free per-document steps: normalisers, language ID, tokenizer,
quality filters and PII redaction.

Every step is a frozen dataclass subclassing :class:`filters.base.Filter`.
Importing this package registers every built-in step in
:data:`filters.base.REGISTRY`, keyed by its stable ``name``.
"""

from filters.base import REGISTRY, Filter, build_filter  # noqa: F401
from filters import builtin  # noqa: F401  (registers the built-in steps)

__all__ = ["REGISTRY", "Filter", "build_filter"]
