"""Imports every built-in step so that it registers in ``filters.base.REGISTRY``.

Add one import line per new filter module.
"""

from filters import hiragana, langid, length, normalize, tokenize  # noqa: F401
from filters import compression, hojichar_style, ng_words, stopwords, swallow, url_blocklist  # noqa: F401
from filters import boilerplate, pii  # noqa: F401
