"""Site boilerplate: lines that a site repeats on many of its pages.

trafilatura removes most of a page template, but not all of it: a header line
(``Apache HTTP サーバ バージョン 2.4``), a breadcrumb, a byline or a copyright
footer often survives and then opens or closes every page of the site. No
single page shows that such a line is boilerplate; the corpus does.

This module holds the Beam-free half of the corpus-wide step
:class:`SiteBoilerplate`: which (site, line) keys a document has
(:meth:`SiteBoilerplate.line_keys`), what makes two pages different pages
(:meth:`SiteBoilerplate.page_digests`) and how a document is rewritten once the
frequent keys among its own are known (:meth:`SiteBoilerplate.strip`). The
counting across the corpus is ``pipeline.boilerplate.RemoveSiteBoilerplate``.

A line is frequent when it occurs on at least ``min_pages`` pages of the same
site that differ both in URL (path and query) and in text: exact copies of one
page count once, and so do recrawls of one URL whose text changed a little (a
view counter), so neither turns a page's own body into boilerplate. A frequent
line is removed where templates put their lines: in the run of frequent lines
that opens or closes the document, or next to another frequent line; a
frequent line alone between lines of the page's own (a greeting that many posts
of a big host share) stays. This is CCNet's paragraph deduplication (Wenzek et
al. 2020) limited to one site and to the template's places in the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit
from typing import ClassVar, Iterable, Mapping

import xxhash

from filters.base import Filter
from filters.url_blocklist import _with_netloc, url_host
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


#: A run of table rows: whole lines that start and end with "|" (two characters at least).
_TABLE_RUN = re.compile(r"^\|[^\n]*\|(?:\n\|[^\n]*\|)*$", re.M)


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
    if "|" not in text:  # no table: most pages
        return text.split("\n")
    out: list[str] = []
    pos = 0
    for m in _TABLE_RUN.finditer(text):  # a run of rows at C speed (tables of thousands of rows exist)
        if m.start() > pos:
            out += text[pos:m.start() - 1].split("\n")
        out.append(m.group())
        pos = m.end() + 1
    if pos <= len(text):
        out += text[pos:].split("\n")
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


_KEY_MASK = (1 << 63) - 1


def line_key(site: str, line: str) -> int:
    """The 63-bit key of one unit of one site (xxh3-64 of ``site \\n unit``, top bit cleared).

    A site never holds a newline, so different (site, unit) pairs never share
    the hashed bytes. 63 bits keep the key a signed 64-bit integer, which Beam
    encodes as a varint (larger ints are pickled: 2.5x the bytes, slower).

    >>> line_key("a.jp", "x") == line_key("a.jp", "x"), line_key("a.jp", "x") == line_key("b.jp", "x")
    (True, False)
    >>> all(0 <= line_key("a.jp", str(i)) < 2 ** 63 for i in range(1000))
    True
    """
    return xxhash.xxh3_64_intdigest(f"{site}\n{line}".encode("utf-8", "surrogatepass")) & _KEY_MASK


def page_of(url: str) -> str:
    """What tells two pages of one site apart: the URL's path and query (no
    scheme, host or fragment, which name the same page).

    >>> page_of("https://a.jp/x?p=1#top"), page_of("http://a.jp/x?p=1"), page_of("a.jp/y")
    ('/x?p=1', '/x?p=1', '/y')
    """
    try:
        parts = urlsplit(_with_netloc(url))
    except ValueError:
        return url
    return parts.path + ("?" + parts.query if parts.query else "")


@dataclass(frozen=True)
class SiteBoilerplate(Filter):
    """Removes lines that the document's site repeats on ``min_pages`` or more pages.

    A corpus-wide step: the pipeline counts, for every (site, unit) key, on how
    many different pages of the site it occurs (different in URL and in text:
    :meth:`page_digests`), joins the frequent keys back to each document and
    calls :meth:`strip`. Where it stands in the config's ``[[filters]]`` list
    decides which text it sees (the default: after language ID and the URL
    blocklist, before the quality filters, so they measure the page without its
    template). Run as a per-document step on its own (notebooks,
    ``bench/bench_filters.py``) it has nothing to count and changes nothing.

    Measured (scores ``site_boilerplate.lines_removed`` / ``chars_removed``):
    the lines and characters removed. It never drops a document:

    * a table counts as one unit (:func:`units`), and only :func:`removable`
      units are counted and removed (not separators, or code lines that are
      one tag);
    * a frequent unit goes only where a template puts it: in the run of
      frequent units that opens or closes the document, or next to another
      frequent unit (units that are not removable do not break a run); one
      alone between the page's own lines stays;
    * a document whose every removable unit would go is left whole (a template
      page or a copy of other pages: the quality filters and dedup decide on
      it, with its text intact for the rejects table);
    * a unit is kept when removing it would put two tables next to each other
      (they would read as one);
    * a document that loses lines goes on to the next steps, which reject it
      if too little is left (``length``, ``swallow_length``).

    Thresholds:
        min_pages: the number of different pages of one site (different URL
            path and query, and different text) a line must occur on to be
            boilerplate (default 10, at least 2). Lower finds the templates of
            small sites too, but also the lines a site's articles share by
            chance.

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

    @staticmethod
    def page_digests(doc: Doc) -> tuple[bytes, bytes]:
        """8-byte digests of the document's text and of its page (:func:`page_of`):
        a line is frequent when enough pages differ in both.

        >>> a = Doc(id="1", url="http://a.jp/x?v=1", source="", crawl_date="", text="t")
        >>> b = a._replace(url="https://a.jp/x?v=1#c")
        >>> SiteBoilerplate.page_digests(a) == SiteBoilerplate.page_digests(b)
        True
        """
        return (xxhash.xxh3_64_digest(doc.text.encode("utf-8", "surrogatepass")),
                xxhash.xxh3_64_digest(page_of(doc.url).encode("utf-8", "surrogatepass")))

    def strip(self, doc: Doc, frequent: Iterable[int]) -> tuple[Doc, dict[str, float]]:
        """Removes the frequent units of ``doc`` that stand where a template's
        lines do (see the class); ``frequent`` may hold other documents' keys.

        >>> k = lambda u: line_key("a.jp", u)
        >>> d = Doc(id="1", url="http://a.jp/", source="", crawl_date="", text="H\\nx\\nG\\ny\\nF1\\n---\\nF2")
        >>> SiteBoilerplate().strip(d, {k("H"), k("G"), k("F1"), k("F2")})[0].text
        'x\\nG\\ny\\n---'
        >>> SiteBoilerplate().strip(d, {k(u) for u in "HxGy"} | {k("F1"), k("F2")})[0] is d
        True
        """
        frequent = frequent if isinstance(frequent, (set, frozenset)) else set(frequent)
        site = site_of(doc.url)
        if not frequent or not site:
            return doc, _scores(0, 0)
        parts = units(doc.text)
        positions = [i for i, u in enumerate(parts) if removable(u)]
        flags = [line_key(site, parts[i]) in frequent for i in positions]
        n = len(flags)
        lead = 0
        while lead < n and flags[lead]:
            lead += 1
        if lead == n:  # nothing of the page's own would be left
            return doc, _scores(0, 0)
        trail = n
        while flags[trail - 1]:
            trail -= 1
        drop = {positions[k] for k in range(n) if flags[k] and (
            k < lead or k >= trail or (k > 0 and flags[k - 1]) or (k + 1 < n and flags[k + 1]))}
        if not drop:
            return doc, _scores(0, 0)
        keep: list[str] = []
        last_kept_table = gap = False
        for i, unit in enumerate(parts):
            if i in drop:
                gap = True
                continue
            table = _is_table_row(unit)
            if table and last_kept_table and gap:
                keep.append(parts[i - 1])  # two tables would merge: keep what separated them
            keep.append(unit)
            last_kept_table, gap = table, False
        text = "\n".join(keep)
        if text == doc.text:
            return doc, _scores(0, 0)
        lines = doc.text.count("\n") - text.count("\n")
        return doc._replace(text=text, n_chars=len(text)), _scores(lines, len(doc.text) - len(text))

    def apply(self, doc: Doc) -> tuple[Doc, dict[str, float]]:
        """Without the corpus there is nothing frequent: the document unchanged."""
        return doc, _scores(0, 0)

    def decide(self, scores: Mapping[str, float]) -> str | None:
        return None


def _scores(lines: int, chars: int) -> dict[str, float]:
    return {"lines_removed": float(lines), "chars_removed": float(chars)}
