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
site that differ from each other both in URL (path and query, tracking
parameters dropped) and in text: exact copies of one page count once, and so
do recrawls of one URL whose text changed a little (a view counter), so
neither turns a page's own body into boilerplate. Frequent lines are removed
where templates put them: the run of frequent lines that opens the document
and the run that closes it. Frequent lines inside the page (shared code lines,
a greeting that many posts of a big host share, a heading above links of the
page's own) stay. This is CCNet's paragraph deduplication (Wenzek et al. 2020)
limited to one site and to the page's edges.
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


#: Query parameters that name no other page (campaign tracking, click ids, sessions).
_TRACKING = frozenset({"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
                       "mc_cid", "mc_eid", "_ga", "_gl", "ref", "ref_src", "from", "phpsessid", "jsessionid",
                       "sid", "sessionid", "session_id", "cfid", "cftoken"})
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sid)=[^/?#]*", re.I)


def page_of(url: str) -> str:
    """What tells two pages of one site apart: the URL's path and query, without
    the scheme, host, fragment and tracking or session parameters, which name
    the same page; ``/`` for an empty path.

    >>> page_of("https://a.jp/x?p=1#top"), page_of("http://a.jp/x?utm_source=t&p=1&fbclid=9"), page_of("a.jp")
    ('/x?p=1', '/x?p=1', '/')
    >>> page_of("http://a.jp/x;jsessionid=AB12?from=top"), page_of("http://a.jp/?ref=rss")
    ('/x', '/')
    """
    try:
        parts = urlsplit(_with_netloc(url))
    except ValueError:
        return url
    path = _PATH_SESSION.sub("", parts.path) or "/"
    if not parts.query:
        return path
    kept = [p for p in parts.query.split("&")
            if p and not (name := p.split("=", 1)[0].lower()).startswith("utm_") and name not in _TRACKING]
    return path + ("?" + "&".join(kept) if kept else "")


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
    * frequent units go only where a template puts them: the run of frequent
      units that opens the document and the run that closes it, with the
      separators among them (units that are not removable do not end a run);
      frequent units inside the page stay (shared code lines, a greeting, a
      heading above links of the page's own);
    * a document whose every removable unit is frequent is left whole (a
      template page or a copy of other pages: the quality filters and dedup
      decide on it, with its text intact for the rejects table);
    * a document that loses lines goes on to the next steps, which reject it
      if too little is left (``length``, ``swallow_length``).

    Thresholds:
        min_pages: the number of pages of one site, each with its own URL
            (:func:`page_of`) and its own text, a line must occur on to be
            boilerplate (default 10, 2 to 1,000). Lower finds the templates of
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
    bounds: ClassVar = {"min_pages": (2, 1000)}
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
        a line is frequent on ``min_pages`` pages that differ in both.

        >>> a = Doc(id="1", url="http://a.jp/x?v=1", source="", crawl_date="", text="t")
        >>> b = a._replace(url="https://a.jp/x?v=1#c")
        >>> SiteBoilerplate.page_digests(a) == SiteBoilerplate.page_digests(b)
        True
        """
        return (xxhash.xxh3_64_digest(doc.text.encode("utf-8", "surrogatepass")),
                xxhash.xxh3_64_digest(page_of(doc.url).encode("utf-8", "surrogatepass")))

    def strip(self, doc: Doc, frequent: Iterable[int]) -> tuple[Doc, dict[str, float]]:
        """Removes the runs of frequent units that open and close ``doc`` (see
        the class); ``frequent`` may hold other documents' keys.

        >>> k = lambda u: line_key("a.jp", u)
        >>> d = Doc(id="1", url="http://a.jp/", source="", crawl_date="", text="H\\n---\\nx\\nG\\nF1\\ny\\nF2\\n---\\nF3")
        >>> SiteBoilerplate().strip(d, {k("H"), k("G"), k("F1"), k("F2"), k("F3")})[0].text
        'x\\nG\\nF1\\ny'
        >>> SiteBoilerplate().strip(d, {k(u) for u in ("H", "x", "G", "F1", "y", "F2", "F3")})[0] is d
        True
        """
        frequent = frequent if isinstance(frequent, (set, frozenset)) else set(frequent)
        site = site_of(doc.url)
        if not frequent or not site:
            return doc, _scores(0, 0)
        parts = units(doc.text)
        own = [i for i, u in enumerate(parts) if removable(u) and line_key(site, u) not in frequent]
        if not own:  # nothing of the page's own would be left
            return doc, _scores(0, 0)
        first, last = own[0], own[-1]
        # Runs that hold only separators are no template evidence: left alone.
        start = first if any(removable(u) for u in parts[:first]) else 0
        end = last + 1 if any(removable(u) for u in parts[last + 1:]) else len(parts)
        if start == 0 and end == len(parts):
            return doc, _scores(0, 0)
        text = "\n".join(parts[start:end])
        lines = doc.text.count("\n") - text.count("\n")
        return doc._replace(text=text, n_chars=len(text)), _scores(lines, len(doc.text) - len(text))

    def apply(self, doc: Doc) -> tuple[Doc, dict[str, float]]:
        """Without the corpus there is nothing frequent: the document unchanged."""
        return doc, _scores(0, 0)

    def decide(self, scores: Mapping[str, float]) -> str | None:
        return None


def _scores(lines: int, chars: int) -> dict[str, float]:
    return {"lines_removed": float(lines), "chars_removed": float(chars)}
