"""Default quality-filter config and keep rates on real livedoor news articles."""

from __future__ import annotations

import dataclasses
import tomllib

import pytest

import filters.builtin  # noqa: F401  (registers every step)
from filters.base import REGISTRY, build_filter
from filters.normalize import normalize_text
from pipeline.config import default_config_text
from schemas.records import Doc
from tests.conftest import shared

# Lower bounds on the share of real news articles each filter keeps. Measured on
# the 307-article sample below (see the printed rates). swallow_ngram, with the
# Swallow reference's definitions, keeps ~96% (it kept ~15% with Gopher's
# character-coverage definition of the duplicate n-gram fraction).
MIN_KEEP = {"swallow_ngram": 0.9, "swallow_length": 0.85}
DEFAULT_MIN_KEEP = 0.9


def _entries() -> list[dict]:
    """The quality filters of the bundled config, in execution order."""
    data = tomllib.loads(default_config_text())
    return [e for e in data["filters"] if REGISTRY[e["name"]].stage == "filter"]


def _livedoor_docs(step: int = 24) -> list[Doc]:
    root = shared("text", "livedoor-news-corpus")
    docs = []
    for path in sorted(root.glob("*/*-*.txt"))[::step]:
        lines = path.read_text(encoding="utf-8").split("\n")
        # Line 1 is the URL, line 2 the date; the article (title + body) follows.
        text = normalize_text("\n".join(lines[2:]))
        docs.append(Doc(id=path.name, url=lines[0].strip(), source="", crawl_date=lines[1], text=text))
    if len(docs) < 100:
        pytest.skip("too few livedoor articles")
    return docs


def test_livedoor_articles_are_mostly_kept() -> None:
    docs = _livedoor_docs()
    rates = {}
    for entry in _entries():
        f = build_filter(entry["name"], {k: v for k, v in entry.items() if k != "name"})
        kept = sum(f.decide(f.score(d)) is None for d in docs)
        rates[f.name] = kept / len(docs)
    print("keep rates over", len(docs), "livedoor articles:", {k: round(v, 3) for k, v in rates.items()})
    for name, rate in rates.items():
        assert rate >= MIN_KEEP.get(name, DEFAULT_MIN_KEEP), (name, rate)
    # The cheap prose filters keep (nearly) everything: a broken rule would show here.
    for name in ("stopwords", "compression_ratio", "ng_words", "url_blocklist", "bbs_comments", "ad_phrases"):
        assert rates[name] >= 0.99, (name, rates[name])
