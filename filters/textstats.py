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
from functools import cached_property

import numpy as np

HIRAGANA = 1
KATAKANA = 2
KANJI = 4
LETTER = 8
SPECIAL = 16
SPACE = 32
JAPANESE = HIRAGANA | KATAKANA | KANJI

# Swallow's sentence ends are 。．！？!?. After NFKC ！？． are already ASCII !?.,
# and ASCII "." is also a decimal point, part of URLs and of the NFKC form of
# "…" ("..."). So "." ends a sentence only when it is a single dot (not part of
# "...") and is not followed by an ASCII letter or digit ("3.5", "example.com").
_END_CHARS = "。．！？!?"
# Starts with the literal so the engine scans with a fast prefix search, and the
# replacement is constant (no per-match template expansion in Python).
_PERIOD = re.compile(r"\.(?<!\.\.)(?![.0-9A-Za-z])")
_ALL_ENDS = _END_CHARS + "."


def split_sentences(line: str) -> list[str]:
    """Splits one line after every run of sentence ends; the ends stay in the sentence.

    Sentence ends are 。．！？!? and a lone ASCII "." not followed by an ASCII
    letter or digit (see the comment on ``_PERIOD``). Pieces are stripped and
    empty ones dropped. Implemented with ``str.replace`` (C speed) and one
    regex with a constant replacement; a piece made only of end characters
    (the second "!" of "!!") is glued back to the sentence it ends.

    >>> split_sentences("価格は3.5万円です。本当!?そう...次.終わり")
    ['価格は3.5万円です。', '本当!?', 'そう...次.', '終わり']
    """
    for ch in _END_CHARS:
        if ch in line:
            line = line.replace(ch, ch + "\n")
    if "." in line:
        line = _PERIOD.sub(".\n", line)
    out: list[str] = []
    for piece in line.split("\n"):
        piece = piece.strip()
        if not piece:
            continue
        if out and not piece.strip(_ALL_ENDS):
            out[-1] += piece
        else:
            out.append(piece)
    return out


# The n of character n-grams measured by :attr:`TextStats.ngram_stats`.
TOP_NGRAM_NS = (2, 3, 4)
DUP_NGRAM_NS = (5, 6, 7, 8, 9, 10)
_MAX_N = 10


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


def ngram_repetition(cps: np.ndarray) -> dict[str, float]:
    """Character n-gram repetition statistics (Gopher/RefinedWeb definitions).

    For ``n`` in :data:`TOP_NGRAM_NS`, ``top_<n>gram`` is the share of
    characters in the most frequent n-gram: ``count * n / len`` (Gopher's
    ``top_n_gram`` fraction, counted with overlaps as datatrove does).

    For ``n`` in :data:`DUP_NGRAM_NS`, ``dup_<n>gram`` is the fraction of
    characters covered by at least one n-gram that occurs more than once in the
    text (Gopher, Rae et al. 2021, Appendix A; RefinedWeb). Every occurrence,
    the first included, covers its characters, and overlapping occurrences are
    not double counted, so the value is in [0, 1]. We use this definition, not
    datatrove's greedy variant (which skips ahead after a repeat and counts only
    later occurrences), because it is the one the papers state, it does not depend
    on scan order, and Swallow's thresholds (0.15..0.10) were taken from Gopher.

    ``cps`` should be the code points without whitespace (n-grams are over the
    character sequence the way Gopher's are over the word sequence).

    Implementation: the 10-character windows starting at every position are
    sorted lexicographically once (:func:`_sort_windows`, exact, no hashing).
    In that order the windows sharing an n-character prefix are contiguous for
    every n <= 10, so comparing sorted neighbours' prefixes gives the exact
    n-gram groups for all nine n from a single sort (usually one or two
    ``argsort`` calls on 64-bit keys).

    >>> s = ngram_repetition(code_points("abcdeabcde"))
    >>> s["dup_5gram"], s["top_2gram"]
    (1.0, 0.4)
    >>> ngram_repetition(code_points("abcdefghij"))["dup_5gram"]
    0.0
    """
    length = int(cps.size)
    out = {f"top_{n}gram": 0.0 for n in TOP_NGRAM_NS}
    out.update({f"dup_{n}gram": 0.0 for n in DUP_NGRAM_NS})
    if length < 2:
        return out
    order, prefix_keys = _sort_windows(cps)
    for n in TOP_NGRAM_NS + DUP_NGRAM_NS:
        if length < n:
            continue
        sorted_key, shift = prefix_keys[n]
        prefix = sorted_key >> np.uint64(shift)
        # same[k]: sorted windows k and k+1 share their first n characters.
        same = prefix[1:] == prefix[:-1]
        if n in TOP_NGRAM_NS:
            # Groups of equal n-grams are runs of `same`; the largest has run+1 members.
            bounds = np.concatenate(([-1], np.flatnonzero(~same), [length - 1]))
            out[f"top_{n}gram"] = int(np.diff(bounds).max()) * n / length
        else:
            dup_sorted = np.zeros(length, dtype=np.uint8)
            dup_sorted[1:] |= same
            dup_sorted[:-1] |= same
            dup = np.empty(length, dtype=np.uint8)
            dup[order] = dup_sorted
            # A character is covered if one of the n windows containing it is a repeat.
            covered = int(np.count_nonzero(np.convolve(dup, np.ones(n, dtype=np.uint8))[:length]))
            out[f"dup_{n}gram"] = covered / length
    return out


def _sort_windows(cps: np.ndarray) -> tuple[np.ndarray, dict[int, tuple[np.ndarray, int]]]:
    """Sorts the 10-character windows of ``cps`` lexicographically, exactly.

    Characters are replaced by dense ranks 1..V (0 pads windows that run past
    the end, so they never equal a real n-gram), packed ``b = bitlen(V)`` bits
    each into 64-bit keys. The first round sorts by as many leading characters
    as fit; each later round sorts by (rank of the previous key, next
    characters). Returns the final order and, for each n, the sorted key that
    holds the n-th character and the right shift that leaves exactly the
    n-character prefix (plus the earlier-round group rank) in it.
    """
    length = int(cps.size)
    _, inverse = np.unique(cps, return_inverse=True)
    bits = int(inverse.max() + 1).bit_length()
    padded = np.zeros(length + _MAX_N - 1, dtype=np.uint64)
    padded[:length] = inverse.reshape(-1)
    padded[:length] += 1
    prefix_keys: dict[int, tuple[np.ndarray, int]] = {}
    done = 0
    group = None
    group_bits = 0
    while True:
        width = min((64 - group_bits) // bits, _MAX_N - done)
        assert width >= 1  # group_bits <= bitlen(len) and bits <= 21 leave room
        key = np.zeros(length, dtype=np.uint64) if group is None else group << np.uint64(width * bits)
        for j in range(done, done + width):
            key |= padded[j : j + length] << np.uint64((done + width - 1 - j) * bits)
        order = np.argsort(key)  # ties are equal windows: their order is irrelevant
        sorted_key = key[order]
        for n in range(done + 1, done + width + 1):
            prefix_keys[n] = (sorted_key, (done + width - n) * bits)
        done += width
        if done >= _MAX_N:
            return order, prefix_keys
        # Dense rank of the windows' first `done` characters, in position order.
        rank_sorted = np.zeros(length, dtype=np.uint64)
        np.cumsum(sorted_key[1:] != sorted_key[:-1], out=rank_sorted[1:])
        group = np.empty(length, dtype=np.uint64)
        group[order] = rank_sorted
        group_bits = int(rank_sorted[-1]).bit_length()


def _split_nonempty(text: str) -> list[str]:
    return [s for s in (p.strip() for p in text.split("\n")) if s]


def duplicate_fractions(items: list[str]) -> tuple[float, float]:
    """Gopher's duplicate-element fractions: (by count, by characters).

    An element is a duplicate if an identical element occurred earlier; the
    first occurrence is not a duplicate. The character version divides the
    characters of duplicate elements by the characters of all elements
    (Rae et al. 2021, Table A1; datatrove ``find_duplicates``).

    >>> duplicate_fractions(["ab", "cd", "ab", "ab"])
    (0.5, 0.5)
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
    >>> st.n_hiragana, st.n_kanji, st.n_letters, st.sentences
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
    def sentences(self) -> list[str]:
        """Sentences of all lines (:func:`split_sentences`), in order."""
        out: list[str] = []
        for line in self.lines:
            out.extend(split_sentences(line))
        return out

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
        """:func:`ngram_repetition` over the non-whitespace characters."""
        return ngram_repetition(self.cps[(self.flags & SPACE) == 0])

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
