"""Site boilerplate: lines that a site repeats on many of its pages.

trafilatura removes most of a page template, but not all of it: a header line
(``Apache HTTP サーバ バージョン 2.4``), a breadcrumb, a "関連記事" heading or a
copyright footer often survives and then opens or closes every page of the
site. No single page shows that such a line is boilerplate; the corpus does.

This module holds the Beam-free half of the corpus-wide step
:class:`SiteBoilerplate`: which (site, line) keys a document has
(:meth:`SiteBoilerplate.line_keys`) and how a document is rewritten once the
frequent keys among them are known (:meth:`SiteBoilerplate.strip`). The
counting across the corpus is ``pipeline.boilerplate.RemoveSiteBoilerplate``.

A line is boilerplate when it occurs on at least ``min_pages`` pages of the
same site with *different texts* (exact copies of one page count once, so a
page crawled ten times does not turn its own body into boilerplate). This is
the same idea as CCNet's paragraph deduplication (Wenzek et al. 2020), limited
to one site so that a sentence two sites share is not removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Iterable, Mapping

import xxhash

from filters.base import Filter
from filters.url_blocklist import url_host
from schemas.records import Doc


def site_of(url: str) -> str:
    """The site a URL belongs to: the host as the URL blocklist reads it
    (:func:`filters.url_blocklist.url_host`: lower case, no port, no ``www.``).

    ``''`` for a URL without a host: JSON Lines records without URLs are never
    treated as one big site.

    >>> site_of("https://WWW.Example.jp:8080/a?b"), site_of("news.example.jp/a"), site_of("")
    ('example.jp', 'news.example.jp', '')
    """
    return url_host(url) if url else ""


_WORD = re.compile(r"[^\W_]")
_TAG_LINE = re.compile(r"</?[A-Za-z][^<>]*>")


def _is_table_row(line: str) -> bool:
    return len(line) > 1 and line[0] == "|" and line[-1] == "|"


def units(text: str) -> list[str]:
    """The text's lines, except that each run of table rows is one unit.

    trafilatura writes a table row per line, cells between ``|``. A table is
    judged as a whole: a template table (a site-wide index repeated on every
    page) is boilerplate, while a row that many pages of a documentation site
    share (``| ステータス: | Base |``) is part of each page's own table, and
    removing it would break that table.

    >>> units("見出し\\n| a | b |\\n|---|---|\\n| c | d |\\n本文")
    ['見出し', '| a | b |\\n|---|---|\\n| c | d |', '本文']
    """
    lines = text.split("\n")
    if "|" not in text:  # no table: most pages
        return lines
    out: list[str] = []
    table = False
    for line in lines:
        row = _is_table_row(line)
        if row and table:
            out[-1] += "\n" + line
        else:
            out.append(line)
        table = row
    return out


def removable(unit: str) -> bool:
    """Whether a unit (:func:`units`) may be removed as boilerplate at all.

    Never removed, however often a site repeats them:

    * units without a letter or digit (``・・・``, ``}``, ``----``): they carry no
      text, and they are the structure of text and code;
    * a line that is one markup tag (``</Directory>``): code shown on the page
      (the page's own markup is gone by now), which breaks without it.

    >>> [removable(x) for x in ("■関連記事", "| a |\\n|---|", "----", "</Directory>", "")]
    [True, True, False, False, False]
    """
    return _WORD.search(unit) is not None and not (unit[:1] == "<" and _TAG_LINE.fullmatch(unit))


def line_key(site: str, line: str) -> int:
    """The 64-bit key of one unit of one site (xxh3-64 of ``site \\n unit``).

    A site never holds a newline, so different (site, unit) pairs never share
    the hashed bytes.

    >>> line_key("a.jp", "x") == line_key("a.jp", "x"), line_key("a.jp", "x") == line_key("b.jp", "x")
    (True, False)
    """
    return xxhash.xxh3_64_intdigest(f"{site}\n{line}".encode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class SiteBoilerplate(Filter):
    """Removes lines that the document's site repeats on ``min_pages`` or more pages.

    A corpus-wide step: the pipeline counts, for every (site, line) key, on how
    many distinct page texts of the site it occurs, joins the frequent keys back
    to each document and calls :meth:`strip`. Where it stands in the config's
    ``[[filters]]`` list decides which text it sees (the default: after language
    ID and the URL blocklist, before the quality filters, so they measure the
    page without its template). Run as a per-document step on its own
    (notebooks, ``bench/bench_filters.py``) it has nothing to count and changes
    nothing.

    Measured (scores ``site_boilerplate.lines_removed`` / ``chars_removed``):
    the lines and characters removed. It never drops a document:

    * a table counts as one unit (:func:`units`), and only :func:`removable`
      units are counted and removed (not separators, or code lines that are
      one tag);
    * a document whose every removable unit is frequent is left whole (it is a
      template page or a near-copy of other pages; the quality filters and
      dedup decide on it, with its text intact for the rejects table);
    * a document that loses lines goes on to the next steps, which reject it
      if too little is left (``length``, ``swallow_length``).

    Thresholds:
        min_pages: the number of different page texts of one site a line must
            occur on to be boilerplate (default 10, at least 2). Lower finds the
            templates of small sites too, but also removes the body of an
            article the site publishes in that many versions.

    >>> step = SiteBoilerplate()
    >>> doc = Doc(id="1", url="https://a.example.jp/1", source="", crawl_date="", text="サイト名\\n本文です。")
    >>> new, scores = step.strip(doc, {line_key("a.example.jp", "サイト名")})
    >>> new.text, new.n_chars, scores
    ('本文です。', 5, {'lines_removed': 1.0, 'chars_removed': 5.0})
    """

    name: ClassVar[str] = "site_boilerplate"
    stage: ClassVar[str] = "boilerplate"
    reasons: ClassVar[tuple[str, ...]] = ()
    bounds: ClassVar = {"min_pages": (2, None)}
    #: This step needs the whole corpus (``pipeline.boilerplate``), not one document.
    corpus_wide: ClassVar[bool] = True
    min_pages: int = 10

    def line_keys(self, doc: Doc) -> list[int]:
        """The distinct (site, unit) keys of ``doc``'s :func:`removable` units;
        none when it has no site.

        >>> d = Doc(id="1", url="http://a.jp/", source="", crawl_date="", text="x\\ny\\nx\\n---")
        >>> len(SiteBoilerplate().line_keys(d)), SiteBoilerplate().line_keys(d._replace(url=""))
        (2, [])
        """
        site = site_of(doc.url)
        if not site or not doc.text:
            return []
        return sorted({line_key(site, u) for u in units(doc.text) if removable(u)})

    def strip(self, doc: Doc, frequent: Iterable[int]) -> tuple[Doc, dict[str, float]]:
        """Removes the :func:`removable` units of ``doc`` whose key is in ``frequent``.

        Leaves the document whole when no removable unit would be left (see the class).

        >>> d = Doc(id="1", url="http://a.jp/", source="", crawl_date="", text="x\\n---\\ny")
        >>> SiteBoilerplate().strip(d, {line_key("a.jp", "x"), line_key("a.jp", "y")})[0].text
        'x\\n---\\ny'
        """
        frequent = frequent if isinstance(frequent, (set, frozenset)) else set(frequent)
        site = site_of(doc.url)
        if not frequent or not site:
            return doc, _scores(0, 0)
        parts = units(doc.text)
        keep, text_left = [], False
        for unit in parts:
            if not removable(unit):
                keep.append(unit)
            elif line_key(site, unit) not in frequent:
                keep.append(unit)
                text_left = True
        if not text_left or len(keep) == len(parts):
            return doc, _scores(0, 0)
        text = "\n".join(keep)
        lines = doc.text.count("\n") - text.count("\n")
        return doc._replace(text=text, n_chars=len(text)), _scores(lines, len(doc.text) - len(text))

    def apply(self, doc: Doc) -> tuple[Doc, dict[str, float]]:
        """Without the corpus there is nothing frequent: the document unchanged."""
        return doc, _scores(0, 0)

    def decide(self, scores: Mapping[str, float]) -> str | None:
        return None


def _scores(lines: int, chars: int) -> dict[str, float]:
    return {"lines_removed": float(lines), "chars_removed": float(chars)}
