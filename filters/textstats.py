"""Shared, cached character statistics of one document text.

Several quality filters (Swallow rules, HojiChar-style signals, NG words) need
the same measurements: counts of hiragana/katakana/kanji/letters, the lines,
the sentences, character n-gram repetition. Computing them once per text and
sharing the result is most of the speed of the filter stage, so
:func:`text_stats` returns a :class:`TextStats` whose properties are computed
lazily (only when a filter asks) and memoised, from a small cache keyed by the
identity of the ``str`` object. The filters stay independent classes: each just
calls ``text_stats(doc.text)``; when several filters run on the same ``Doc`` in
one worker (fused Beam steps pass the same object), the text is scanned once.

The Swallow rules (:mod:`filters.swallow`) use their own definitions, which
follow the Swallow authors' reference implementation exactly (paragraphs,
sentences, letter classes, n-gram fractions: see the ``swallow_*`` functions
below); the classes here serve the other filters.

Character classes (after NFKC; see :func:`char_flags`):

* hiragana: U+3041..U+3096 and U+309D..U+309F (the letters of the Hiragana
  block; the combining and spacing sound marks U+3099..U+309C are excluded).
* katakana: U+30A1..U+30FA, U+30FC..U+30FF (the prolonged sound mark ー counts:
  it is written almost only in katakana words) and U+31F0..U+31FF. The middle
  dot ・ (U+30FB) is punctuation, not katakana.
* kanji: CJK Unified Ideographs U+4E00..U+9FFF, Extension A U+3400..U+4DBF,
  Extensions B.. U+20000..U+3134F, Compatibility U+F900..U+FAFF, plus 々〆〇
  (U+3005..U+3007).
* Japanese characters: hiragana + katakana + kanji.
* letters: code points for which ``str.isalpha()`` holds (Unicode general
  categories Lu, Ll, Lt, Lm, Lo), plus the Japanese characters (only 〇, an Nl
  numeral, is not already alphabetic), so Japanese characters are a subset of
  letters. Digits, punctuation, symbols and whitespace are not letters.
* special characters: symbols (categories Sm, Sc, Sk, So: ■★♪→©, emoji...),
  control/format/private-use/unassigned/surrogate code points (C*), stray
  combining marks (M*) and U+FFFD. Punctuation (P*: 。、「」!?...), digits,
  letters and whitespace are *not* special: prose needs them.
* whitespace: ``str.isspace()``.

All counting is vectorised: the text is turned into a NumPy array of code
points once and classified with one table lookup and one ``bincount``.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from functools import cached_property

import numpy as np

HIRAGANA = 1
KATAKANA = 2
KANJI = 4
LETTER = 8
SPECIAL = 16
SPACE = 32
JAPANESE = HIRAGANA | KATAKANA | KANJI

def _classify(cp: int) -> int:
    ch = chr(cp)
    flags = 0
    if 0x3041 <= cp <= 0x3096 or 0x309D <= cp <= 0x309F:
        flags |= HIRAGANA
    elif 0x30A1 <= cp <= 0x30FA or 0x30FC <= cp <= 0x30FF or 0x31F0 <= cp <= 0x31FF:
        flags |= KATAKANA
    elif (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x3134F
        or 0xF900 <= cp <= 0xFAFF
        or 0x3005 <= cp <= 0x3007
    ):
        flags |= KANJI
    if flags or ch.isalpha():
        flags |= LETTER
    if ch.isspace():
        flags |= SPACE
    else:
        cat = unicodedata.category(ch)
        if cat[0] in "SCM" or cp == 0xFFFD:
            flags |= SPECIAL
    return flags


_TABLE_LOCK = threading.Lock()
_BMP_TABLE: np.ndarray | None = None


def _bmp_table() -> np.ndarray:
    # Built on first use (~70 ms), not at import, so importing filters stays cheap.
    global _BMP_TABLE
    if _BMP_TABLE is None:
        with _TABLE_LOCK:
            if _BMP_TABLE is None:
                _BMP_TABLE = np.fromiter((_classify(cp) for cp in range(0x10000)), np.uint8, 0x10000)
    return _BMP_TABLE


def code_points(text: str) -> np.ndarray:
    """Returns the code points of ``text`` as a ``uint32`` array (zero-copy view).

    >>> code_points("aあ").tolist()
    [97, 12354]
    """
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def char_flags(cps: np.ndarray) -> np.ndarray:
    """Classifies code points into the bit flags documented in the module docstring.

    Code points of the BMP use a 64 Ki lookup table; the rare astral ones
    (emoji, rare kanji) are classified one distinct value at a time.

    >>> f = char_flags(code_points("あア亜a1■ "))
    >>> [bool(x & JAPANESE) for x in f]
    [True, True, True, False, False, False, False]
    >>> [bool(x & LETTER) for x in f], bool(f[5] & SPECIAL), bool(f[6] & SPACE)
    ([True, True, True, True, False, False, False], True, True)
    """
    table = _bmp_table()
    if cps.size == 0 or int(cps.max()) < 0x10000:
        return table[cps]
    flags = table[np.minimum(cps, 0xFFFF)]
    astral = cps >= 0x10000
    values, inverse = np.unique(cps[astral], return_inverse=True)
    flags[astral] = np.array([_classify(int(v)) for v in values], np.uint8)[inverse]
    return flags


def _bit_index(bit: int) -> np.ndarray:
    return np.array([v for v in range(256) if v & bit], dtype=np.intp)


_IDX = {bit: _bit_index(bit) for bit in (HIRAGANA, KATAKANA, KANJI, LETTER, SPECIAL, SPACE)}


# --- Swallow corpus v1 definitions ------------------------------------------
# These follow the Swallow authors' reference implementation ("Assess Japanese
# text quality", Naoaki Okazaki, MIT licence; see filters/swallow.py) exactly,
# on our NFKC text. Where NFKC changes a character the reference looks at, the
# choice is documented next to the constant.

# Sentence terminators of the reference: 。．！？!?. ASCII "." is *not* one (in
# raw text it is a decimal point, part of URLs, "..."), and we keep it that way
# on NFKC text although NFKC maps ．(U+FF0E) to ".": on livedoor news, 97% of
# the "." of the NFKC text were already ASCII "." in the raw text (1,452 vs 52).
SWALLOW_TERMINATORS = "。．！？!?"
# A sentence: one or more non-terminators, then an optional terminator. "\n" is
# excluded so that one findall over the whole text yields the sentences of each
# line in order (never crossing a line), as a per-line findall would.
_SENTENCE = re.compile(r"[^。．！？!?\n]+[。．！？!?]?")
# Characters the sentence regex never matches: a terminator at the start of a
# line or right after another terminator (the second "!" of "!!"). A paragraph
# is the concatenation of its line's sentences, i.e. the line without these.
# The leading lookahead lets re skip straight to terminators (27 -> 14 us on a news article).
_UNMATCHED_ENDS = re.compile(r"(?=[。．！？!?])(?:^|(?<=[。．！？!?]))[。．！？!?]+", re.MULTILINE)
# Sentence endings counted as an ellipsis: the reference's ・ and … , plus "...",
# which is what NFKC makes of … (U+2026). ‥ (U+2025, NFKC "..") is not counted,
# as in the reference.
SWALLOW_ELLIPSES = ("・", "…", "...")

# Letter classes of the reference (codes of the table below).
_S_OTHER, _S_HIRAGANA, _S_KATAKANA, _S_KANJI, _S_KUTEN, _S_TOTEN = range(6)
# Kuten are 。．！？ in the reference. NFKC turns ！？ into ASCII !?; on livedoor
# news 88% of the NFKC "!" and "?" were full-width in the raw text (2,790 vs
# 410), so ASCII !? count as kuten too: the rule then behaves on NFKC text the
# way the reference does on raw text. ASCII "." does not (97% were ASCII "."
# already, see above). Toten are 、，; ASCII "," (99% ASCII in raw text, 277 vs
# 3) does not count.
SWALLOW_KUTEN = "。．！？!?"
SWALLOW_TOTEN = "、，"


def _swallow_table() -> np.ndarray:
    table = np.zeros(0x10000, dtype=np.uint8)
    table[0x3041:0x3097] = _S_HIRAGANA
    table[0x30A1:0x30FB] = _S_KATAKANA
    table[0x3400:0xA000] = _S_KANJI
    table[0xF900:0xFB00] = _S_KANJI
    for ch in "々〇〻":
        table[ord(ch)] = _S_KANJI
    for ch in SWALLOW_KUTEN:
        table[ord(ch)] = _S_KUTEN
    for ch in SWALLOW_TOTEN:
        table[ord(ch)] = _S_TOTEN
    return table


_SWALLOW_TABLE = _swallow_table()


def swallow_letter_counts(cps: np.ndarray) -> dict[str, int]:
    """Counts the reference's letter classes in code points ``cps``.

    * hiragana: U+3041..U+3096 (ゝゞゟ and the sound marks are not counted);
    * katakana: U+30A1..U+30FA (the middle dot ・ and the prolonged sound mark ー
      are not counted);
    * kanji: 々〇〻, U+3400..U+9FFF, U+F900..U+FAFF and U+20000..U+2FFFF (the
      range the reference's UTF-16 surrogate-pair alternative D840..D87F
      encodes);
    * kuten: 。．！？ and ASCII !? (see ``SWALLOW_KUTEN``); toten: 、，.

    >>> swallow_letter_counts(code_points("あア亜々、。!ー・.,"))
    {'hiragana': 1, 'katakana': 1, 'kanji': 2, 'kuten': 2, 'toten': 1}
    """
    if cps.size and int(cps.max()) > 0xFFFF:
        bmp = cps[cps <= 0xFFFF]
        astral_kanji = int(np.count_nonzero((cps >= 0x20000) & (cps <= 0x2FFFF)))
    else:
        bmp, astral_kanji = cps, 0
    counts = np.bincount(_SWALLOW_TABLE[bmp], minlength=6)
    return {
        "hiragana": int(counts[_S_HIRAGANA]),
        "katakana": int(counts[_S_KATAKANA]),
        "kanji": int(counts[_S_KANJI]) + astral_kanji,
        "kuten": int(counts[_S_KUTEN]),
        "toten": int(counts[_S_TOTEN]),
    }


def swallow_sentences(text: str) -> list[str]:
    """The reference's sentences of all lines, in order (not stripped).

    Each match of "one or more non-terminators, then an optional terminator"
    (terminators 。．！？!?) within a line. Terminators that do not follow a
    non-terminator (the second "!" of "!!", one at the start of a line) belong
    to no sentence; an empty line has none.

    >>> swallow_sentences("価格は3.5万円です。本当!!そう…\\n\\n!次")
    ['価格は3.5万円です。', '本当!', 'そう…', '次']
    """
    return _SENTENCE.findall(text)


def swallow_paragraphs(text: str) -> list[str]:
    """The reference's paragraphs: one per line (empty lines included), each the
    concatenation of the line's sentences (:func:`swallow_sentences`).

    >>> swallow_paragraphs("本当!!そう\\n\\n!次")
    ['本当!そう', '', '次']
    """
    if "!" in text or "?" in text or "。" in text or "．" in text or "！" in text or "？" in text:
        text = _UNMATCHED_ENDS.sub("", text)
    return text.split("\n")


# The n of character n-grams measured by :func:`swallow_ngram_fractions`.
TOP_NGRAM_NS = (2, 3, 4)
DUP_NGRAM_NS = (5, 6, 7, 8, 9, 10)
_U64 = np.uint64


def swallow_ngram_fractions(cps: np.ndarray) -> dict[str, float]:
    """Character n-gram statistics of the reference, over all of the text.

    N-grams are all overlapping windows of the code points ``cps`` of the whole
    text (newlines and spaces included), ``len - n + 1`` of them.

    * ``top_<n>gram`` (n = 2, 3, 4): occurrences of the most frequent n-gram
      divided by the number of n-grams.
    * ``dup_<n>gram`` (n = 5..10): number of *distinct* n-grams occurring more
      than once divided by the number of distinct n-grams.

    Both are 0 when the text has fewer than ``n`` characters (the reference
    raises for ``top`` there).

    Exact (no hashing). Code points are 16-bit values (astral ones, or a text
    with U+0000, are first replaced by their dense rank 1..V), so 4 characters
    pack into one 64-bit key. One ``argsort`` of the 4-character keys of every
    position (zero-padded past the end, so a padded window never equals a real
    n-gram) groups equal 2-, 3- and 4-grams. A 5..10-gram can only repeat where
    its 4-character prefix does, so only the windows in tied 4-gram groups (a
    small fraction of real text) are sorted further, by characters 5..10.

    >>> s = swallow_ngram_fractions(code_points("abcdeabcde"))
    >>> s["top_2gram"], s["dup_5gram"]
    (0.2222222222222222, 0.2)
    """
    length = int(cps.size)
    out = dict(_ZERO_NGRAMS)
    if length < 2:
        return out
    codes = cps
    if int(cps.max()) > 0xFFFF or int(cps.min()) == 0:
        values, inverse = np.unique(cps, return_inverse=True)
        if values.size > 0xFFFF:  # ranks 1..size must fit 16 bits
            return _ngram_fractions_counter(cps)
        codes = inverse.reshape(-1) + 1
    # Big-endian 16-bit characters, zero-padded; the 8 bytes starting at
    # character i, read as one big-endian uint64, are characters i..i+3 with
    # character i in the high bits: lexicographic order is integer order.
    pad = np.zeros(length + 12, dtype=">u2")
    pad[:length] = codes
    buf = pad.data

    def key(offset: int) -> np.ndarray:
        return np.ndarray((length,), ">u8", buf, 2 * offset, (2,)).astype(np.uint64)

    k0 = key(0)
    order = np.argsort(k0)
    s0 = k0[order]
    # Sorted neighbours share their first n characters iff their XOR is below
    # 2 ** (16 * (4 - n)).
    diff = s0[1:] ^ s0[:-1]
    for n in TOP_NGRAM_NS:
        if length < n:
            break
        # Groups of equal n-grams are runs of shared n-prefixes; padded windows
        # are singletons, so they never make the largest group.
        ends = np.flatnonzero(diff >= _PREFIX_LIMIT[n])
        if ends.size == 0:
            top = length
        else:
            top = max(int(ends[0]) + 1, length - 1 - int(ends[-1]))
            if ends.size > 1:
                top = max(top, int((ends[1:] - ends[:-1]).max()))
        out[f"top_{n}gram"] = top / (length - n + 1)
    if length < 5:
        return out
    tie = diff == 0
    in_tie = np.zeros(length, dtype=bool)
    in_tie[1:] = tie
    in_tie[:-1] |= tie
    sub = order[in_tie]
    if not sub.size:
        return out
    # Windows whose 4-gram repeats, sorted by characters 1-4, 5-8, 9-12; the
    # common prefix of sorted neighbours, capped at 10, gives every n at once.
    a, b, c = k0[sub], key(4)[sub], key(8)[sub]
    sub_order = np.lexsort((c, b, a))
    a, b, c = a[sub_order], b[sub_order], c[sub_order]
    lb = _common_chars(b[1:] ^ b[:-1])
    lc = _common_chars(c[1:] ^ c[:-1], 2)
    full = np.where(a[1:] == a[:-1], 4 + lb + np.where(lb == 4, lc, 0), 0)
    # pairs[n]: adjacent equal n-gram pairs (sorted neighbours with lcp >= n);
    # windows - pairs is the number of distinct n-grams. A run of pairs with
    # lcp >= n is one repeated n-gram; it starts at k when prev < n <= full[k].
    pairs = np.cumsum(np.bincount(full, minlength=11)[::-1])[::-1]
    prev = np.concatenate(([0], full[:-1]))
    up = full > prev
    starts = np.cumsum(np.bincount(prev[up] + 1, minlength=12) - np.bincount(full[up] + 1, minlength=12))
    for n in DUP_NGRAM_NS:
        if length < n:
            break
        out[f"dup_{n}gram"] = int(starts[n]) / (length - n + 1 - int(pairs[n]))
    return out


_ZERO_NGRAMS = {**{f"top_{n}gram": 0.0 for n in TOP_NGRAM_NS}, **{f"dup_{n}gram": 0.0 for n in DUP_NGRAM_NS}}
_SHIFTS = tuple(np.uint64(s) for s in (48, 32, 16))
_PREFIX_LIMIT = {n: np.uint64(1 << (16 * (4 - n))) for n in (2, 3, 4)}


def _common_chars(x: np.ndarray, width: int = 4) -> np.ndarray:
    # Leading zero 16-bit units of the XOR of two keys, counting the first
    # ``width`` (2 or 4) units: the number of leading characters they share.
    out = (x >> _SHIFTS[0] == 0).astype(np.intp)
    out += x >> _SHIFTS[1] == 0
    if width == 4:
        out += x >> _SHIFTS[2] == 0
        out += x == 0
    return out


def _ngram_fractions_counter(cps: np.ndarray) -> dict[str, float]:
    # Fallback for texts with > 65535 distinct code points (never real prose).
    s = cps.tolist()
    out: dict[str, float] = {}
    for n in TOP_NGRAM_NS + DUP_NGRAM_NS:
        counts = Counter(tuple(s[i : i + n]) for i in range(len(s) - n + 1))
        if n in TOP_NGRAM_NS:
            out[f"top_{n}gram"] = max(counts.values()) / (len(s) - n + 1) if counts else 0.0
        else:
            out[f"dup_{n}gram"] = sum(1 for f in counts.values() if f > 1) / len(counts) if counts else 0.0
    return out


def _split_nonempty(text: str) -> list[str]:
    return [s for s in (p.strip() for p in text.split("\n")) if s]


def duplicate_fractions(items: list[str]) -> tuple[float, float]:
    """Duplicate fractions of the Swallow reference: (by count, by characters).

    By count: the sum over distinct items of (frequency - 1), divided by the
    number of items. By characters: the sum over distinct items of
    ``len(item) * (frequency - 1)``, divided by the characters of all items.
    Both are 0 for no items (or no characters). Computed as ``len(items) -
    len(set(items))`` and the same difference of character sums, which is the
    same sum.

    >>> duplicate_fractions(["ab", "cd", "ab", "ab"])
    (0.5, 0.5)
    >>> duplicate_fractions(["", "", "abc"])
    (0.3333333333333333, 0.0)
    >>> duplicate_fractions([])
    (0.0, 0.0)
    """
    if not items:
        return 0.0, 0.0
    distinct = set(items)
    total_chars = sum(map(len, items))
    dup_chars = total_chars - sum(map(len, distinct))
    return (len(items) - len(distinct)) / len(items), (dup_chars / total_chars if total_chars else 0.0)


class TextStats:
    """Lazily computed, memoised statistics of one text (see module docstring).

    Obtain instances through :func:`text_stats` so they are shared.

    >>> st = TextStats("今日は晴れ。\\nABC!")
    >>> st.n_hiragana, st.n_kanji, st.n_letters, st.swallow_sentences
    (2, 3, 8, ['今日は晴れ。', 'ABC!'])
    """

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def cps(self) -> np.ndarray:
        """Code points of the text."""
        return code_points(self.text)

    @cached_property
    def flags(self) -> np.ndarray:
        """Character-class bit flags of every code point (:func:`char_flags`)."""
        return char_flags(self.cps)

    @cached_property
    def _counts(self) -> np.ndarray:
        return np.bincount(self.flags, minlength=256)

    def _count(self, bit: int) -> int:
        return int(self._counts[_IDX[bit]].sum())

    @property
    def n_chars(self) -> int:
        """Code points in the text, newlines included."""
        return len(self.text)

    @cached_property
    def n_hiragana(self) -> int:
        """Hiragana characters."""
        return self._count(HIRAGANA)

    @cached_property
    def n_katakana(self) -> int:
        """Katakana characters (ー included, ・ excluded)."""
        return self._count(KATAKANA)

    @cached_property
    def n_kanji(self) -> int:
        """Kanji characters."""
        return self._count(KANJI)

    @property
    def n_japanese(self) -> int:
        """Hiragana + katakana + kanji."""
        return self.n_hiragana + self.n_katakana + self.n_kanji

    @cached_property
    def n_letters(self) -> int:
        """Letters (``isalpha`` or Japanese)."""
        return self._count(LETTER)

    @cached_property
    def n_special(self) -> int:
        """Special characters (symbols, controls, private use, stray marks)."""
        return self._count(SPECIAL)

    @cached_property
    def n_space(self) -> int:
        """Whitespace characters (newlines included)."""
        return self._count(SPACE)

    @cached_property
    def lines(self) -> list[str]:
        """Non-empty lines, stripped."""
        return _split_nonempty(self.text)

    @cached_property
    def swallow_sentences(self) -> list[str]:
        """Sentences of the Swallow reference (:func:`swallow_sentences`)."""
        return swallow_sentences(self.text)

    @cached_property
    def swallow_paragraphs(self) -> list[str]:
        """Paragraphs of the Swallow reference (:func:`swallow_paragraphs`)."""
        return swallow_paragraphs(self.text)

    @cached_property
    def swallow_letters(self) -> dict[str, int]:
        """Letter classes of the Swallow reference (:func:`swallow_letter_counts`)."""
        return swallow_letter_counts(self.cps)

    @cached_property
    def max_run(self) -> int:
        """Length of the longest run of one repeated character (0 for empty text)."""
        cps = self.cps
        if cps.size == 0:
            return 0
        change = np.flatnonzero(cps[1:] != cps[:-1])
        bounds = np.concatenate(([-1], change, [cps.size - 1]))
        return int(np.diff(bounds).max())

    @cached_property
    def ngram_stats(self) -> dict[str, float]:
        """:func:`swallow_ngram_fractions` of the whole text."""
        return swallow_ngram_fractions(self.cps)

    @cached_property
    def utf8(self) -> bytes:
        """The text encoded as UTF-8."""
        return self.text.encode("utf-8", "surrogatepass")


_CACHE: dict[int, tuple[str, TextStats]] = {}
# Beam runs several bundles per worker process concurrently: keep enough entries
# that interleaved documents rarely evict each other, but stay small.
_CACHE_SIZE = 64


def text_stats(text: str) -> TextStats:
    """Returns the shared :class:`TextStats` of ``text``, computing it at most once.

    The cache is keyed by ``id(text)`` and holds a reference to the string, so
    an id cannot be reused while its entry lives, and the ``is`` check makes a
    hit exact. It is cleared when it grows past 64 entries. Races between
    threads can at worst compute the same statistics twice.

    >>> t = "ねこ" * 3
    >>> text_stats(t) is text_stats(t)
    True
    """
    key = id(text)
    entry = _CACHE.get(key)
    if entry is not None and entry[0] is text:
        return entry[1]
    stats = TextStats(text)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[key] = (text, stats)
    return stats
