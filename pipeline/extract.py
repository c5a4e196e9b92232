"""Charset decoding and main-text extraction (Beam-free).

Decoding follows the order browsers use, adapted to Japanese crawls: a byte
order mark, then the HTTP ``Content-Type`` charset, then a ``<meta>`` charset in
the first 4 KiB, then detection. A declared charset that does not decode
strictly is distrusted and detection takes over (mislabelled pages are common).
Labels are mapped the way the WHATWG Encoding Standard does: ``Shift_JIS`` and
its aliases decode as ``cp932`` (Windows-31J, what Japanese sites actually
send), ``ISO-8859-1``/``ASCII`` as ``cp1252``.

Extraction runs trafilatura. With ``isolate=True`` it runs in a child process
per worker so that a page that makes lxml spin (or crash) is stopped after
``timeout_s`` and becomes a reject instead of stalling or killing the worker;
the child is restarted transparently. Sending a page over a pipe costs tens of
microseconds, against milliseconds for extraction.

The limit is **CPU time** of the child (``ITIMER_PROF``), not wall-clock time:
a page gets the same verdict on a loaded worker as on an idle one, so a retried
bundle or a rerun rejects the same pages (a wall-clock limit let a page near it
pass on one run and time out on the next) as long as the child gets a third
of a core. The timer's handler runs between Python bytecodes, so C code that
never returns to Python (libxml2 parsing one huge document) is caught by a
wall-clock backstop instead, ``3 * timeout_s + 10`` seconds. A page that needs
about ``timeout_s`` can still get another verdict on another CPU type. Without
``setitimer`` (Windows) the limit is wall-clock time.

On POSIX systems the child is a fresh interpreter running
``pipeline.extract_child`` (started as :mod:`pipeline.childproc` describes, so it
imports the same furui as its parent), connected by a socket pair. It is not a
``multiprocessing`` spawn child on purpose: a spawn child first re-imports the
parent's ``__main__`` module, which in a Beam SDK worker is Beam's harness
(``sdk_worker_main``), so every child start (and every restart after a timeout)
paid a full ``import apache_beam`` (~0.65 s and ~100 MB per child) that it never
uses. Elsewhere (Windows), where a file descriptor cannot be handed to a child,
it falls back to a ``multiprocessing`` spawn child.
"""

from __future__ import annotations

import codecs
import functools
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Sequence

from pipeline import childproc

#: Whether the extraction child is started with a socket pair (``pass_fds``);
#: otherwise (Windows) as a ``multiprocessing`` spawn child.
_POSIX = os.name == "posix"

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HEADER_CHARSET = re.compile(rb"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.I)

# WHATWG label -> Python codec, for the labels that differ in practice.
_LABELS = {
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
    "ms_kanji": "cp932", "windows-31j": "cp932", "csshiftjis": "cp932", "ms932": "cp932",
    "cp932": "cp932", "x-ms-cp932": "cp932",
    "euc-jp": "euc_jp", "x-euc-jp": "euc_jp", "eucjp": "euc_jp", "cseucpkdfmtjapanese": "euc_jp",
    "iso-2022-jp": "iso2022_jp_2", "csiso2022jp": "iso2022_jp_2", "jis": "iso2022_jp_2",
    "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252",
    "ascii": "cp1252", "windows-1252": "cp1252",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030",
    "euc-kr": "cp949", "ks_c_5601-1987": "cp949",
    "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8",
}
# Tried in this order when nothing trustworthy is declared.
_JA_CANDIDATES = ("utf-8", "cp932", "euc_jp")


_NOT_CHARSETS = frozenset({"undefined", "idna", "punycode", "unicode-escape", "raw-unicode-escape",
                           "unicode-internal", "utf-7"})


def codec_for(label: str) -> str | None:
    """Maps a charset label to a Python codec name, or ``None`` if unknown.

    >>> codec_for("Shift_JIS"), codec_for("EUC-JP"), codec_for("utf8"), codec_for("nonsense")
    ('cp932', 'euc_jp', 'utf-8', None)
    >>> codec_for("undefined"), codec_for("base64"), codec_for("idna")
    (None, None, None)
    """
    name = _LABELS.get(label.strip().lower(), label.strip().lower())
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    if name in _LABELS.values():
        return name
    # Python codecs that no web page is in: "undefined" (always raises), the
    # domain-name and escape codecs, and the bytes-to-bytes ones (base64, zlib...).
    if info.name in _NOT_CHARSETS or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def decode_text(payload: bytes, content_type: str) -> tuple[str, str]:
    """Decodes a text record (WET conversion, JSONL ``text``): the charset its
    Content-Type declares, else UTF-8 (what Common Crawl's WET files hold).

    >>> decode_text("日本語".encode("cp932"), "text/plain; charset=Shift_JIS")
    ('日本語', 'cp932')
    >>> decode_text("日本語".encode(), "text/plain")
    ('日本語', 'utf-8')
    """
    m = _HEADER_CHARSET.search(content_type.encode("latin-1", "replace"))
    codec = (codec_for(m.group(1).decode("ascii", "replace")) if m else None) or "utf-8"
    return payload.decode(codec, errors="replace"), codec


def declared_charsets(payload: bytes, content_type: str) -> list[str]:
    """Charsets declared by the BOM, the HTTP header and ``<meta>``, in that order."""
    found: list[str] = []
    for bom, name in _BOMS:
        if payload.startswith(bom):
            found.append(name)
    m = _HEADER_CHARSET.search(content_type.encode("latin-1", "replace"))
    if m:
        found.append(m.group(1).decode("ascii", "replace"))
    m = _META_CHARSET.search(payload[:4096])
    if m:
        label = m.group(1).decode("ascii", "replace")
        codec = codec_for(label)
        # A <meta> that could be read as ASCII is not in UTF-16 or EBCDIC: WHATWG
        # reads such a declaration as UTF-8 (UTF-16 decodes almost any even-length
        # bytes without an error, so a wrong one was never caught).
        found.append("utf-8" if codec is not None and not _ascii_compatible(codec) else label)
    return found


@functools.lru_cache(maxsize=64)
def _ascii_compatible(codec: str) -> bool:
    """Whether ASCII text reads the same in ``codec`` (a ``<meta>`` could be read).

    >>> _ascii_compatible("cp932"), _ascii_compatible("utf-16"), _ascii_compatible("cp037")
    (True, False, False)
    """
    probe = b'<meta charset="x-y_z.0">'
    try:
        return probe.decode(codec) == probe.decode("ascii")
    except (UnicodeError, LookupError, ValueError):
        return False


def _japanese_score(text: str) -> int:
    # Kana are the tell: mis-decoded CJK bytes produce kanji soup or replacement
    # characters, rarely hiragana in quantity.
    return sum(1 for ch in text if "\u3041" <= ch <= "\u30ff")


def decode_html(payload: bytes, content_type: str = "") -> tuple[str, str]:
    """Decodes an HTML payload; returns ``(text, codec)``.

    Never raises: if nothing decodes strictly, the best candidate is decoded
    with replacement characters (which later stages can measure).

    >>> decode_html("<meta charset=shift_jis>日本語".encode("cp932"))[1]
    'cp932'
    >>> decode_html("日本語のページです".encode("euc_jp"))
    ('日本語のページです', 'euc_jp')
    """
    declared = []
    for label in declared_charsets(payload, content_type):
        codec = codec_for(label)
        if codec is None:
            continue
        declared.append(codec)
        try:
            text = payload.decode(codec)
        except (UnicodeError, LookupError, ValueError):  # never raise, whatever the codec
            continue
        if codec == "utf-16":
            return text, codec
        return text.lstrip("\ufeff"), codec
    return detect_and_decode(payload, declared)


def detect_and_decode(payload: bytes, declared: Sequence[str] = ()) -> tuple[str, str]:
    """Decodes bytes whose charset is undeclared or wrongly declared.

    ISO-2022-JP is recognised by its escape sequences; otherwise UTF-8, CP932 and
    EUC-JP are tried strictly and, when several succeed, the one producing the
    most kana wins. Then a ``declared`` codec that failed strictly is used with
    replacement if that replaces at most one character in a thousand (one bad
    byte in a Shift_JIS page made the whole page UTF-8 garbage); charset-normalizer
    handles everything else.

    >>> page = ("<p>" + "日本語の本文です。" * 20 + "</p>").encode("cp932") + b"\\x81 "
    >>> text, codec = detect_and_decode(page, ["cp932"])
    >>> codec, text.count("\\ufffd")
    ('cp932', 1)
    """
    if b"\x1b$B" in payload or b"\x1b$@" in payload or b"\x1b(J" in payload:
        try:
            return payload.decode("iso2022_jp_2"), "iso2022_jp_2"
        except UnicodeDecodeError:
            pass
    try:
        return payload.decode("utf-8").lstrip("\ufeff"), "utf-8"
    except UnicodeDecodeError:
        pass
    ok: list[tuple[int, str, str]] = []
    for codec in _JA_CANDIDATES[1:]:
        try:
            text = payload.decode(codec)
        except UnicodeDecodeError:
            continue
        ok.append((_japanese_score(text), codec, text))
    if ok:
        # Highest kana count; ties go to the earlier (more common) codec.
        best = max(ok, key=lambda t: (t[0], -_JA_CANDIDATES.index(t[1])))
        if best[0] > 0 or len(ok) == 1:
            return best[2], best[1]
    for codec in declared:
        if not _ascii_compatible(codec):
            continue  # UTF-16 "decodes" any bytes with few replacements: no evidence
        try:
            text = payload.decode(codec, errors="replace")
        except (UnicodeError, LookupError, ValueError):
            continue
        if text.count("\ufffd") <= len(text) // 1000 + 1:
            return text.lstrip("\ufeff"), codec
    try:
        from charset_normalizer import from_bytes

        match = from_bytes(payload[:200_000]).best()
        if match is not None and match.encoding:
            # Only codecs a page can be in (charset-normalizer proposes utf_7, which
            # decodes "+2AA-" to a lone surrogate that cuts the page in lxml).
            codec = codec_for(match.encoding)
            if codec is not None:
                return payload.decode(codec, errors="replace"), codec
    except Exception:  # detection is best effort; fall through to replacement
        pass
    return payload.decode("utf-8", errors="replace"), "utf-8"


_CONTROL_CHARS = re.compile("[\x01-\x08\x0b\x0e-\x1f]")


def looks_binary(text: str) -> bool:
    """True if decoded text is mostly not text (NUL bytes or control characters).

    More than 5% of the first 2,048 characters: a stray NUL in a page's title is
    garbage in a text page (trafilatura reads past it), not a binary file.

    >>> looks_binary("<html>普通のページ</html>"), looks_binary("PNG\\x00\\x00\\x01\\x02" * 20)
    (False, True)
    >>> looks_binary("<html><title>a\\x00b</title>" + "本文" * 100 + "</html>")
    False
    """
    head = text[:2048]
    if not head:
        return False
    # C0 controls other than \t \n \f \r; a regex count instead of a
    # per-character loop (43 -> 10 us on a 2 KB head).
    bad = len(_CONTROL_CHARS.findall(head)) + head.count("\x00")
    return bad / len(head) > 0.05


# --------------------------------------------------------------------------
# trafilatura


@dataclass(frozen=True)
class ExtractOptions:
    """What trafilatura is asked for (mirrors the ``[extract]`` config section)."""

    favor: str = "balanced"  # "precision", "recall" or "balanced"
    include_tables: bool = True
    include_comments: bool = False
    join_wrapped_lines: bool = True  # see join_wrapped_lines()
    fast: bool = False  # skip trafilatura's fallback extractors (readability, jusText)


class TooDeep(Exception):
    """The page nests elements deeper than the HTML parser goes (libxml2: 2,048)."""


#: libxml2's message when a document nests deeper than it parses; the rest of
#: the page is dropped without an exception.
_DEPTH_ERROR = "Excessive depth in document"
_parser = None


def _deep_parser():
    """trafilatura's HTML parser with ``huge_tree``, installed once per process.

    libxml2 stops at a nesting depth of 256 by default and drops the rest of the
    page without raising: a page of unclosed ``<div>``/``<font>`` tags (old,
    hand-written sites) lost its text after the 255th. ``huge_tree`` raises the
    limit to 2,048; a page deeper than that is rejected as ``too_deep`` instead of
    being kept cut. Same options as trafilatura's own parser otherwise (400
    shared pages extract identically with either). None if trafilatura no longer
    has one parser to replace (then the default limit applies).
    """
    global _parser
    if _parser is None:
        try:
            import trafilatura.utils as tu
            from lxml.html import HTMLParser
        except ImportError:  # a trafilatura without that module: its own parser, as it is
            _parser = False
            return None
        if not isinstance(getattr(tu, "HTML_PARSER", None), HTMLParser):
            _parser = False
        else:
            _parser = HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8",
                                 remove_comments=True, remove_pis=True, huge_tree=True)
            tu.HTML_PARSER = _parser
    return _parser or None


# East Asian wide and fullwidth characters other than Hangul (CSS Text 3, segment
# break transformation): CJK symbols and punctuation, kana, CJK ideographs (BMP and
# the supplementary planes), compatibility forms, full-width forms and half-width
# katakana (not half-width Hangul, U+FFA0-FFDC).
_WIDE = ("\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3200-\u33ff"
         "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff9f\uffe0-\uffee"
         "\U00020000-\U0003ffff")
_BREAK = r"[ \t\r\f]*\n[ \t\r\n\f]*"  # a run of white space with a line break in it
# Searches start a match only where a run of white space starts: trying every
# position inside a long run of spaces (or of line breaks) is quadratic (40,000
# spaces took 4 s, 20,000 line breaks 4.5 s).
_RUN_START = r"(?<![ \t\r\n\f])"
_BREAK_BETWEEN_WIDE = re.compile(f"(?<=[{_WIDE}]){_BREAK}(?=[{_WIDE}])")
_LEADING_BREAK = re.compile(f"^{_BREAK}")
_TRAILING_BREAK = re.compile(f"{_RUN_START}{_BREAK}$")
_ANY_BREAK = re.compile(f"{_RUN_START}{_BREAK}")
# Characters lxml refuses in a text it is given (it accepted them from the parser):
# a text node holding one is left untouched (assigning would fail after clearing it).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# A character reference to one of them (&#12;, &#xFFFE;) or beyond Unicode: the
# parser puts the character into the tree, trafilatura fails to copy it and drops
# the whole page as "no text". The raw characters the parser drops itself.
_REF = re.compile(r"&#(?:[xX]0*([0-9A-Fa-f]{1,8})(?![0-9A-Fa-f])|0*([0-9]{1,10})(?![0-9]));?")
_WIDE_CHAR = re.compile(f"[{_WIDE}]")
# What a break between wide characters becomes until trafilatura is done: one
# character, as the break was after trafilatura's white-space trimming, so its
# length-based rules (link density, section sizes) decide as they did without
# the join; removed from its text afterwards (U+2060 WORD JOINER: invisible, and
# not white space, which trafilatura would turn into a space).
_JOINED = "\u2060"
_BLANK = " \t\r\n\f" + _JOINED
# Elements that flow inside a line. A break at the edge of any other element is a
# block edge, which trafilatura itself may use as a line or item separator: it is
# left as it is.
_INLINE = frozenset(
    "a abbr acronym b bdi bdo big cite code data del dfn em font i img ins kbd mark nobr q "
    "rb ruby s samp small span strike strong sub sup tt u var wbr".split()
)  # Not time, label, rt, rp, rtc: trafilatura drops them with their text, so a
# character found inside one would not be next to the break in its output.
# How many elements a neighbour lookup visits at most (deeply nested inline tags
# would otherwise make it quadratic); past it the neighbour is unknown.
_LOOKUP_STEPS = 32
# Text nodes with a line break and something besides white space; the elements
# whose white space is kept (pre and its relatives) or that are not text.
_WRAPPED_TEXT = None
_KEEP_LINES = None


def _inline(el) -> bool:
    return not isinstance(el.tag, str) or el.tag in _INLINE  # comments flow with the text


def _edge(text, last: bool) -> str | None:
    s = (text or "").strip(_BLANK)
    return (s[-1] if last else s[0]) if s else None


def _last_char(el, budget: list[int]) -> str | None:
    """The last visible character of ``el``'s content: "" when it has none, None at
    a block edge inside it or when the lookup ran out of steps."""
    if not isinstance(el.tag, str):  # a comment or processing instruction: no text
        return ""
    budget[0] -= 1
    if budget[0] < 0:
        return None
    for child in reversed(el):
        c = _edge(child.tail, True)
        if c:
            return c
        if not _inline(child):
            return None
        c = _last_char(child, budget)
        if c != "":
            return c
    return _edge(el.text, True) or ""


def _first_char(el, budget: list[int]) -> str | None:
    """The first visible character of ``el``'s content ("" none, None unknown)."""
    if not isinstance(el.tag, str):
        return ""
    budget[0] -= 1
    if budget[0] < 0:
        return None
    c = _edge(el.text, False)
    if c:
        return c
    for child in el:
        if not _inline(child):
            return None
        c = _first_char(child, budget)
        if c != "":
            return c
        c = _edge(child.tail, False)
        if c:
            return c
    return ""


def _char_before(el, budget: list[int]) -> str | None:
    """The last visible character before ``el`` starts, within the same line box
    (None at a block edge, or unknown)."""
    while budget[0] > 0:
        budget[0] -= 1
        prev = el.getprevious()
        if prev is not None:
            c = _edge(prev.tail, True)
            if c:
                return c
            if not _inline(prev):
                return None
            c = _last_char(prev, budget)
            if c != "":
                return c
            el = prev  # an empty inline element: look before it
            continue
        parent = el.getparent()
        if parent is None:
            return None
        c = _edge(parent.text, True)
        if c or not _inline(parent):
            return c
        el = parent
    return None


def _char_after(el, budget: list[int]) -> str | None:
    """The first visible character after ``el`` ends, within the same line box
    (None at a block edge, or unknown)."""
    while budget[0] > 0:
        budget[0] -= 1
        c = _edge(el.tail, False)
        if c:
            return c
        nxt = el.getnext()
        if nxt is not None:
            if not _inline(nxt):
                return None
            c = _first_char(nxt, budget)
            if c != "":
                return c
            el = nxt  # an empty inline element: look after it
            continue
        parent = el.getparent()
        if parent is None or not _inline(parent):
            return None
        el = parent
    return None


def _across(el, last: bool) -> tuple[str | None, bool]:
    """The visible character at the end (``last``) or start of inline ``el``'s
    content, and whether it is inside ``el`` itself ("direct"); for an element
    without text, the character beyond it (before or after), not direct."""
    c = _last_char(el, [_LOOKUP_STEPS]) if last else _first_char(el, [_LOOKUP_STEPS])
    if c == "":
        return (_char_before if last else _char_after)(el, [_LOOKUP_STEPS]), False
    return c, c is not None


def _joined_or_space(prev: str, nxt: str) -> str:
    return _JOINED if _WIDE_CHAR.match(prev) and _WIDE_CHAR.match(nxt) else " "


def _edge_break(text: str, m, prev: str | None, nxt: str | None, direct: bool, leading: bool) -> str:
    """``text`` with the break ``m`` at its start or end joined, made a space, or kept.

    Joined (U+2060 until trafilatura is done) when both neighbours are wide: at
    the parent's level the break counted as one character in trafilatura's
    lengths, and with nothing in its place a short section with links fell below
    its link-density limit (a paragraph of mod_log_config.html was lost). Inside a
    link's own text the joiner makes the link one character longer, which can tip
    that test the other way on a crafted page (none of 966 shared pages).

    Made a space only when the other neighbour is in the text right across the
    tag (``direct``): where an element without text (an image, an empty link) lies
    between, trafilatura drops it and keeps a line break next to it, but a space
    there can vanish and glue two words. Otherwise, or when a neighbour is unknown
    (a block edge), the break is kept as it is.
    """
    if prev is None or nxt is None:
        return text
    joined = _joined_or_space(prev, nxt)
    if joined == " " and not direct:
        return text
    return joined + text[m.end() :] if leading else text[: m.start()] + joined


def join_wrapped_lines(tree) -> int:
    r"""Joins the lines of text that the page's source wraps inside a paragraph.

    Hand-written and generated HTML (DocBook, Sphinx, old sites) wraps long
    paragraphs in its source; a browser shows them as one line, but trafilatura
    keeps the line breaks, and in plain text they cannot be told from paragraph
    ends: sentences come out cut in two, and line-based filters measure the wrong
    units. As CSS Text 3 renders them, a line break (with the white space around
    it) between two wide characters (kanji, kana, full-width forms; not Hangul)
    disappears and any other inside a text node becomes one space. A break at the
    edge of a text node is judged by the nearest visible characters on both sides
    when only inline elements (``a``, ``span``, ``code``...) lie between (see
    :func:`_edge_break`); at a block element's edge (``p``, ``li``, ``div``...) or
    with a neighbour not found within a few elements it is left as it is, since
    trafilatura may separate blocks by it.
    ``<pre>``, ``<textarea>``, ``<listing>``, ``<xmp>``, ``<plaintext>``, scripts,
    styles and elements styled ``white-space: pre``/``pre-wrap``/``pre-line``
    inline keep their lines (a stylesheet's ``white-space`` is not seen, so a
    poem laid out by a CSS class is joined, as a browser without the stylesheet
    would show it), and ``<br>`` (an element, not a line break in text) still
    ends a line.

    A joined break is first replaced by one U+2060 (see ``_JOINED``), which
    :func:`extract_main_text` removes from trafilatura's output.

    Modifies ``tree`` (an lxml tree) in place; returns the number of text nodes changed.

    >>> from lxml import html
    >>> tree = html.fromstring("<div><p>ハンドラ <code>cgi-script</code>\n が指定された<code>X</code>\nディレ\n"
    ...                        "  クトリ<b>です</b>\nね<br>次の行\nand\nmore <a>link\n</a>to<span>\n日本</span>\n語"
    ...                        "</p><ul><li>zero\n</li><li>\nnext</li></ul><pre>一行目\n二行目</pre>"
    ...                        "<div style='WHITE-SPACE: Pre-Line'>春の\n<b>夜</b>の夢</div></div>")
    >>> n = join_wrapped_lines(tree)
    >>> tree.xpath("string(p)").replace(_JOINED, "")
    'ハンドラ cgi-script が指定されたX ディレクトリですね次の行 and more link to 日本語'
    >>> tree.xpath("string(ul)"), tree.xpath("string(pre)"), tree.xpath("string(div)")
    ('zero\n\nnext', '一行目\n二行目', '春の\n夜の夢')
    """
    global _WRAPPED_TEXT, _KEEP_LINES
    if _WRAPPED_TEXT is None:
        from lxml import etree

        _WRAPPED_TEXT = etree.XPath('//text()[contains(., "\n")][normalize-space(.) != ""]')
        # An inline style that keeps line breaks (white-space: pre, pre-wrap, pre-line:
        # poems, lyrics, posts pasted as they were typed), in any case and spacing.
        upper, lower = "ABCDEFGHIJKLMNOPQRSTUVWXYZ ", "abcdefghijklmnopqrstuvwxyz"
        _KEEP_LINES = etree.XPath(
            "//pre | //textarea | //listing | //xmp | //plaintext | //script | //style"
            f" | //*[contains(translate(@style, '{upper}', '{lower}'), 'white-space:pre')]"
        )
    nodes = _WRAPPED_TEXT(tree)
    if not nodes:
        return 0
    # Elements whose lines are kept, and everything inside them: one pass over
    # those subtrees (an XPath ancestor test per text node was quadratic in depth).
    kept: set = set()
    for el in _KEEP_LINES(tree):
        if el not in kept:
            kept.update(el.iter())
    changed = 0
    for node in nodes:
        # The element a text node flows in: its owner for a text, the owner's parent for a tail.
        if (node.getparent().getparent() if node.is_tail else node.getparent()) in kept:
            continue
        if _NOT_XML.search(node):
            continue
        owner = node.getparent()  # the element whose text or tail this is
        text = _BREAK_BETWEEN_WIDE.sub(_JOINED, node)
        m = _LEADING_BREAK.match(text)
        if m and m.end() < len(text):
            # Before a text: the owner's start tag; before a tail: the owner's content.
            # "direct": the neighbour is in the text right across the tag.
            prev, direct = None, False
            if node.is_tail:
                if _inline(owner):
                    prev, direct = _across(owner, last=True)
            elif _inline(owner):
                before, parent = owner.getprevious(), owner.getparent()
                adjacent = before.tail if before is not None else parent.text if parent is not None else None
                direct = _edge(adjacent, True) is not None
                prev = _char_before(owner, [_LOOKUP_STEPS])
            text = _edge_break(text, m, prev, text[m.end()], direct, leading=True)
        m = _TRAILING_BREAK.search(text)
        if m and m.start() > 0:
            # After a text: the owner's first child, or its end tag; after a tail:
            # the next sibling, or the parent's end tag.
            nxt, direct = None, False
            if node.is_tail:
                sibling = owner.getnext()
                if sibling is not None:
                    if _inline(sibling):
                        nxt, direct = _across(sibling, last=False)
                else:
                    parent = owner.getparent()
                    if parent is not None and _inline(parent):
                        direct = _edge(parent.tail, False) is not None
                        nxt = _char_after(parent, [_LOOKUP_STEPS])
            elif len(owner):
                if _inline(owner[0]):
                    nxt, direct = _across(owner[0], last=False)
            elif _inline(owner):
                direct = _edge(owner.tail, False) is not None
                nxt = _char_after(owner, [_LOOKUP_STEPS])
            text = _edge_break(text, m, text[m.start() - 1], nxt, direct, leading=False)
        # Breaks left inside the text lie between two of its characters: a space.
        # One left at an edge is kept as it is (see _edge_break).
        lead = _LEADING_BREAK.match(text)
        tail = _TRAILING_BREAK.search(text)
        start = lead.end() if lead else 0
        end = tail.start() if tail else len(text)
        if start >= end:
            continue
        text = text[:start] + _ANY_BREAK.sub(" ", text[start:end]) + text[end:]
        if text == node:
            continue
        if node.is_tail:
            owner.tail = text
        else:
            owner.text = text
        changed += 1
    return changed


def _xml_ref(m: re.Match) -> str:
    """A character reference as it was, or '' if it names no character XML allows.

    >>> _REF.sub(_xml_ref, "a&#12;b&#x41;c&#xFFFE;d&#1114112;e&#10;f&#x123456789;")
    'ab&#x41;cde&#10;f&#x123456789;'
    """
    cp = int(m[1], 16) if m[1] else int(m[2])
    return "" if cp > 0x10FFFF or _NOT_XML.match(chr(cp)) else m[0]


def extract_main_text(html: str, url: str, options: ExtractOptions) -> str:
    """Runs trafilatura on one decoded page; returns '' when it finds no main text.

    Raises:
        TooDeep: the page nests deeper than the parser goes (its text would be cut).
    """
    import trafilatura

    if "&#" in html:
        html = _REF.sub(_xml_ref, html)
    parser = _deep_parser()
    page = html
    if parser is not None or options.join_wrapped_lines:
        # Parsed here, as trafilatura.extract would (its own load_html, with the
        # deep parser), so the parser's error log is this page's: extract()
        # parses more small snippets with the same parser, which clears the log.
        try:
            from trafilatura.utils import load_html
        except ImportError:  # a trafilatura without it: its own parsing, no join
            load_html = None
        tree = load_html(html) if load_html is not None else None
        # The log is the parser's, shared by the process: read right after this
        # parse (each extraction child is single-threaded; in-process extraction
        # in a multi-threaded harness could see another thread's parse).
        if tree is not None:
            if parser is not None and any(_DEPTH_ERROR in e.message for e in parser.error_log):
                raise TooDeep("HTML nested deeper than 2,048 elements: the parser stops there")
            if options.join_wrapped_lines:
                join_wrapped_lines(tree)
            page = tree
    try:
        text = _extract(trafilatura, page, url, options)
    except RecursionError as exc:
        # trafilatura's list and table handlers recurse once per nesting level:
        # ~700 nested lists exceed Python's limit (the old depth cap of 256 cut
        # such pages before they got there).
        raise TooDeep("HTML nested too deep for the extractor (recursion limit)") from exc
    if text and options.join_wrapped_lines:
        text = text.replace(_JOINED, "")
    return text or ""


def _extract(trafilatura, page, url: str, options: ExtractOptions):
    return trafilatura.extract(
        page,
        url=url or None,
        output_format="txt",
        include_comments=options.include_comments,
        include_tables=options.include_tables,
        include_images=False,
        include_links=False,
        favor_precision=options.favor == "precision",
        favor_recall=options.favor == "recall",
        deduplicate=False,
        with_metadata=False,
        fast=options.fast,
    )


class ExtractionUnavailable(RuntimeError):
    """trafilatura cannot run at all in this environment (a missing dependency)."""


_PROBE_HTML = "<html><body><article><p>本文です。</p></article></body></html>"


def check_extraction_works(options: ExtractOptions, extractor: "Extractor | None" = None) -> None:
    """Extracts a tiny page once so a broken installation fails the job at
    start-up with one clear error instead of rejecting every page.

    With an isolated ``extractor`` the probe runs in its child process (which
    has to import trafilatura anyway), so the worker itself never imports it;
    otherwise it runs in-process. A probe that times out is not an installation
    error (the next page starts a fresh child); a child that dies on the probe
    twice in a row is.

    Raises:
        ExtractionUnavailable: trafilatura or one of its imports is missing, or
            the isolated child dies at start-up.
    """
    crashes = 0
    while True:
        try:
            if extractor is not None and extractor.isolate:
                extractor.extract(_PROBE_HTML, "")
            else:
                extract_main_text(_PROBE_HTML, "", options)
            return
        except ImportError as exc:  # in process, or the child's (any subclass)
            raise ExtractionUnavailable(
                f"trafilatura cannot run: {exc} (reinstall furui with its dependencies)"
            ) from exc
        except ExtractionTimeout:
            return  # a slow start is not a broken installation
        except ExtractorCrashed as exc:
            # Once can be bad luck; a child that dies twice on a tiny page would
            # die on every page.
            crashes += 1
            if crashes == 2:
                raise ExtractionUnavailable(f"the extraction process dies at start-up: {exc}") from exc


_WARM_UP_PAGE = "<html><body><article><p>warm up</p></article></body></html>"

#: Seconds a new extraction process may take to import trafilatura and answer
#: "ready" (not part of any page's time limit).
START_TIMEOUT_S = 120.0


class ExtractionTimeout(Exception):
    """trafilatura did not finish within the per-document time limit."""


#: Whether the child can limit a page's CPU time (POSIX ``setitimer``).
CPU_LIMIT = hasattr(signal, "setitimer") and hasattr(signal, "ITIMER_PROF")


def wall_backstop_s(timeout_s: float) -> float:
    """Wall-clock seconds the parent waits for a page whose CPU time is limited
    to ``timeout_s``: room for a loaded machine (3x), and for C code that holds
    off the CPU timer's handler, before the child is killed.

    >>> wall_backstop_s(10.0)
    40.0
    """
    return 3 * timeout_s + 10 if CPU_LIMIT else timeout_s


class _CpuLimit(BaseException):
    """Raised in the child by the CPU timer. A BaseException: trafilatura's own
    ``except Exception`` blocks must not swallow it."""


def _extract_limited(html: str, url: str, options: "ExtractOptions", limit_s: float | None) -> tuple[str, object]:
    """One page in the child: ``("ok", text)``, or ``("timeout", limit_s)`` when it
    used more than ``limit_s`` seconds of CPU (``None``: no limit)."""
    if not (limit_s and CPU_LIMIT) or threading.current_thread() is not threading.main_thread():
        # (Signal handlers can only be set in the main thread; the parent's wall-clock
        # wait is the limit then.)
        return "ok", extract_main_text(html, url, options)

    def on_limit(signum, frame):
        raise _CpuLimit()

    previous = signal.signal(signal.SIGPROF, on_limit)
    result: tuple[str, object] | None = None
    error: Exception | None = None
    expired = False
    try:
        signal.setitimer(signal.ITIMER_PROF, limit_s)
        try:
            result = ("ok", extract_main_text(html, url, options))
        except _CpuLimit:
            expired = True
        except Exception as exc:  # the page's own error, unless the limit expired first
            error = exc
        finally:
            # The timer itself says whether the limit was reached (nothing left on
            # it), however the call ended: the handler's exception can be swallowed
            # by a bare "except:", or never start at the recursion limit, where
            # Python raises a RecursionError (caught as the page's own) instead.
            expired = signal.setitimer(signal.ITIMER_PROF, 0)[0] == 0.0 or expired
    except _CpuLimit:  # delivered while the timer was being stopped
        expired = True
    finally:
        signal.signal(signal.SIGPROF, previous)
    if expired:
        return "timeout", limit_s
    if error is not None:
        raise error
    return result


class ExtractorCrashed(Exception):
    """The isolated extraction process died while working on the document."""


def _child_main(conn, options: ExtractOptions) -> None:  # pragma: no cover - runs in a child
    """The child's loop: ``(html, url, cpu_limit_s)`` in, ``(status, value)`` out, until ``None`` or EOF.

    First it imports trafilatura and extracts a tiny page, then answers
    ``("ready", None)`` (or ``("import_error", ...)``): the parent starts a page's
    time limit only after that, so a child's start-up never counts against a page.
    """
    try:
        extract_main_text(_WARM_UP_PAGE, "", options)
        ready = ("ready", None)
    except ImportError as exc:
        ready = ("import_error", f"{type(exc).__name__}: {exc}")
    except Exception:  # the warm-up page itself is not the point; pages will report errors
        ready = ("ready", None)
    try:
        conn.send(ready)
    except OSError:
        return
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):  # the parent closed its end or went away
            return
        if msg is None:
            return
        html, url, limit_s = msg if len(msg) == 3 else (*msg, None)
        try:
            reply = _extract_limited(html, url, options, limit_s)
        except _CpuLimit:  # the timer fired while the limited call was unwinding
            reply = ("timeout", limit_s)
        except ImportError as exc:  # a broken installation, whatever the subclass
            reply = ("import_error", f"{type(exc).__name__}: {exc}")
        except TooDeep as exc:
            reply = ("too_deep", str(exc))
        except Exception as exc:  # reported to the parent as a reject reason
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(reply)
        except OSError:  # the parent went away (killed, interrupted): nothing to answer
            return


class _SpawnedChild:
    """A ``multiprocessing`` spawn child (the fallback off POSIX) behind the part of
    ``subprocess.Popen``'s interface :class:`Extractor` uses."""

    def __init__(self, proc) -> None:
        self.proc = proc

    def poll(self) -> int | None:
        return None if self.proc.is_alive() else self.proc.exitcode

    def kill(self) -> None:
        self.proc.kill()

    def wait(self, timeout: float) -> None:
        self.proc.join(timeout)


class Extractor:
    """Main-text extraction with a hard per-document time limit.

    With ``isolate=True`` trafilatura runs in one long-lived child process; a
    document that uses more than ``timeout_s`` seconds of the child's CPU time
    (or, stuck in C code, more than :func:`wall_backstop_s` of wall-clock time)
    raises :class:`ExtractionTimeout`, the child is stopped and the next document
    starts a fresh one.
    With ``isolate=False`` extraction runs in-process without a hard limit
    (useful for profiling). Not thread-safe: Beam gives each DoFn instance to
    one thread at a time.
    """

    def __init__(self, options: ExtractOptions, timeout_s: float = 10.0, isolate: bool = True):
        self.options = options
        self.timeout_s = timeout_s
        self.isolate = isolate
        self._proc = None
        self._conn = None
        self._lock = threading.Lock()

    def _start(self) -> None:
        if not _POSIX:
            ctx = multiprocessing.get_context("spawn")
            parent_conn, child_conn = ctx.Pipe()
            proc = ctx.Process(target=_child_main, args=(child_conn, self.options), daemon=True)
            proc.start()
            child_conn.close()
            self._proc, self._conn = _SpawnedChild(proc), parent_conn
            return
        parent, child = socket.socketpair()
        try:
            fd = child.fileno()
            proc = subprocess.Popen(
                childproc.python_argv("pipeline.extract_child", str(fd), str(os.getpid())),
                pass_fds=(fd,), stdin=subprocess.DEVNULL, close_fds=True,
            )
        except BaseException:
            parent.close()
            raise
        finally:
            child.close()
        self._proc, self._conn = proc, Connection(parent.detach())
        self._conn.send(self.options)

    def _start_ready(self) -> None:
        """Starts a child and waits until it has imported trafilatura.

        The wait is outside any page's time limit: a page that follows a
        timeout (whose child was killed) gets its whole budget, not the budget
        minus a fresh interpreter's start-up.
        """
        self._start()
        wait_s = max(START_TIMEOUT_S, self.timeout_s)
        if not self._conn.poll(wait_s):
            self._kill()
            raise ExtractorCrashed(f"extraction process did not start within {wait_s:g}s")
        status, value = self._conn.recv()
        if status == "import_error":
            self._kill()
            raise ImportError(value)

    @property
    def alive(self) -> bool:
        """Whether an isolated child process is running."""
        return self._proc is not None and self._proc.poll() is None

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:  # pragma: no cover - a kill that does not take
                pass
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def extract(self, html: str, url: str = "") -> str:
        """Returns the main text ('' if none).

        Raises:
            ExtractionTimeout: over the time limit (isolated mode only).
            ExtractorCrashed: the child died on this document.
            RuntimeError: trafilatura raised (message carries the type).
        """
        if not self.isolate:
            return extract_main_text(html, url, self.options)
        with self._lock:
            try:
                if not self.alive:
                    self._kill()  # reap a child that died between two pages
                    self._start_ready()
                self._conn.send((html, url, self.timeout_s))
                wait_s = wall_backstop_s(self.timeout_s) if isinstance(self._proc, subprocess.Popen) else self.timeout_s
                if not self._conn.poll(wait_s):
                    self._kill()
                    raise ExtractionTimeout(f"extraction exceeded {wait_s:g}s (wall clock)")
                status, value = self._conn.recv()
            except (EOFError, BrokenPipeError, ConnectionResetError, OSError) as exc:
                self._kill()
                raise ExtractorCrashed(f"extraction process died: {type(exc).__name__}: {exc}") from exc
            except BaseException:
                # Interrupted while the child works (Ctrl-C in poll): its answer would
                # reach the next page. A fresh child for the next one.
                self._kill()
                raise
            if status == "timeout":
                # A fresh child for the next page: the interrupted one may hold
                # half-built lxml state.
                self._kill()
                raise ExtractionTimeout(f"extraction exceeded {value:g}s of CPU time")
            if status == "import_error":
                raise ImportError(value)
            if status == "too_deep":
                raise TooDeep(value)
            if status == "error":
                raise RuntimeError(value)
            return value

    def close(self) -> None:
        """Stops the child process (idempotent)."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.send(None)
                except OSError:
                    pass
            self._kill()
