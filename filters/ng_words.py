"""NG-word coverage: adult, gambling and spam vocabulary."""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Iterable, Mapping

from filters.base import COUNT, SHARE, Filter
from filters.textstats import text_stats
from schemas.records import Doc

DEFAULT_NG_WORDS = Path(__file__).with_name("resources") / "ng_words_ja.txt"


def read_word_list(path: str | Path) -> list[str]:
    """Reads a word list: one entry per line, ``#`` starts a comment line, blanks skipped.

    Entries are NFKC-normalised because documents are.

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
    ...     _ = fh.write("# comment\\nｶｼﾞﾉ\\n\\n 賭博 \\n")
    >>> read_word_list(fh.name)
    ['カジノ', '賭博']
    >>> os.unlink(fh.name)
    """
    words = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line and not line.startswith("#"):
                words.append(unicodedata.normalize("NFKC", line))
    return words


def trie_regex(words: Iterable[str]) -> re.Pattern[str]:
    """Compiles words into one trie-shaped regex that matches the longest word.

    A flat alternation ``a|ab`` is leftmost-first (it would match ``a``) and
    tries every alternative at every position; a trie shares prefixes and, with
    greedy optional tails, prefers the longest word at each start position and
    backtracks to a shorter one only when the longer one fails.

    >>> [m.group() for m in trie_regex(["カジノ", "カジ", "賭博"]).finditer("カジノと賭博とカジ")]
    ['カジノ', '賭博', 'カジ']
    """
    trie: dict = {}
    for word in words:
        if not word:
            continue
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict, parts: dict[int, str]) -> str:
        end = "" in node
        branches = [re.escape(ch) + parts.pop(id(child)) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:
            # Greedy optional: try the longer word first, fall back to ending here.
            return ("(?:" + body + ")?") if len(branches) == 1 else body + "?"
        return body

    # Children before their parent, without recursion: a word of 500 characters
    # is a trie 500 levels deep.
    parts: dict[int, str] = {}
    stack: list[tuple[dict, bool]] = [(trie, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            parts[id(node)] = build(node, parts)
        else:
            stack.append((node, True))
            stack.extend((child, False) for ch, child in node.items() if ch)
    pattern = parts.pop(id(trie))
    # An empty list must match nothing ((?!) never matches).
    return re.compile(pattern if pattern else "(?!)")


def _compile_lists(files: Iterable[str]) -> re.Pattern[str]:
    words: set[str] = set()
    for path in files:
        words.update(read_word_list(path))
    return trie_regex(sorted(words))


@dataclass(frozen=True)
class NgWordFilter(Filter):
    """Drops text in which NG words cover too much of the Japanese characters.

    Finds non-overlapping, leftmost, longest matches of the NG words (one
    trie-shaped regex compiled once in :meth:`load`) and divides the characters
    they cover by the document's Japanese characters (hiragana + katakana +
    kanji, see :mod:`filters.textstats`). A ratio rather than "contains any NG
    word" (HojiChar's ``NgWordsFilterJa``) keeps news that mentions カジノ
    or 競馬 once, and drops pages whose vocabulary is adult/gambling/spam.

    Thresholds:
        max_ng_ratio: exclusive: keep only when ``ng_ratio < max_ng_ratio``
            (default 0.05: 5 NG characters per 100 Japanese characters).
        word_files: word-list files (see :func:`read_word_list`); when empty,
            the bundled ``filters/resources/ng_words_ja.txt`` (a small list of
            our own: adult, gambling, spam terms).

    Reasons:
        too_many_ng_words.

    Scores: ``ng_chars`` (covered characters) and ``ng_ratio`` (covered /
    Japanese characters; when there are no Japanese characters, covered
    characters themselves, so any hit drops).

    >>> f = NgWordFilter()
    >>> f.decide(f.score(Doc(id="", url="", source="", crawl_date="", text="オンラインカジノで稼ぐ。")))
    'too_many_ng_words'
    >>> f.decide(f.score(Doc(id="", url="", source="", crawl_date="", text="今日は公園を散歩した。")))
    """

    name: ClassVar[str] = "ng_words"
    reasons: ClassVar[tuple[str, ...]] = ("too_many_ng_words",)
    bounds: ClassVar = {"max_ng_ratio": SHARE}
    max_ng_ratio: float = 0.05
    word_files: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "word_files", tuple(str(p) for p in self.word_files))
        super().__post_init__()

    def check(self) -> None:
        for path in self.word_files:
            if not os.path.isfile(path):
                raise FileNotFoundError(f"NG word list not found: {path}")
            try:  # lists are small: read them here, not first in every worker
                read_word_list(path)
            except UnicodeDecodeError as exc:
                raise ValueError(f"NG word list {path} is not UTF-8 ({exc.reason} at byte {exc.start})") from None
        if self.word_files:  # compiled as load() compiles them, so no worker is the first to fail
            try:
                _compile_lists(self.word_files)
            except (re.error, OverflowError, RecursionError) as exc:
                raise ValueError(f"NG word lists {', '.join(self.word_files)} cannot be compiled into one pattern "
                                 f"({type(exc).__name__}: {str(exc)[:120]}); are they word lists?") from None

    def load(self) -> None:
        if "pattern" in self._state:
            return
        self._state["pattern"] = _compile_lists(self.word_files or (str(DEFAULT_NG_WORDS),))

    def score(self, doc: Doc) -> dict[str, float]:
        self.load()
        covered = sum(m.end() - m.start() for m in self._state["pattern"].finditer(doc.text))
        ja = text_stats(doc.text).n_japanese if covered else 0
        return {"ng_chars": float(covered), "ng_ratio": covered / ja if ja else float(covered)}

    def decide(self, scores: Mapping[str, float]) -> str | None:
        # Inclusive, as the LLM-jp rule; "> 0" makes max_ng_ratio = 0 mean "no NG word at all"
        # instead of "drop every document".
        ratio = scores["ng_ratio"]
        return "too_many_ng_words" if ratio >= self.max_ng_ratio and ratio > 0 else None
