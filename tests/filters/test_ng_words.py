"""Tests of the NG-word coverage filter and its trie regex."""

from __future__ import annotations

import pickle
import re

import pytest

from filters.base import build_filter
from filters.ng_words import DEFAULT_NG_WORDS, NgWordFilter, read_word_list, trie_regex
from schemas.records import Doc


def doc(text: str) -> Doc:
    return Doc(id="t", url="", source="", crawl_date="", text=text)


def test_default_list_is_used_and_non_trivial() -> None:
    words = read_word_list(DEFAULT_NG_WORDS)
    assert 10 <= len(words) <= 500 and "オンラインカジノ" in words
    f = NgWordFilter()
    assert f.decide(f.score(doc("オンラインカジノの入金不要ボーナスで必勝法を試す。"))) == "too_many_ng_words"
    assert f.decide(f.score(doc("今日は公園を散歩して、夕方に家へ帰った。"))) is None


def test_trie_regex_is_leftmost_longest_and_agrees_with_sorted_alternation() -> None:
    words = ["カジノ", "カジ", "オンラインカジノ", "賭博", "賭", "ab", "abc", "a.c"]
    pat = trie_regex(words)
    flat = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
    text = "オンラインカジノとカジと賭博と賭けとabcとabとa.cとaxc"
    assert [m.group() for m in pat.finditer(text)] == [m.group() for m in flat.finditer(text)]
    assert [m.group() for m in pat.finditer(text)] == ["オンラインカジノ", "カジ", "賭博", "賭", "abc", "ab", "a.c"]
    assert trie_regex([]).search("anything") is None


def test_ratio_boundary_exclusive(tmp_path) -> None:
    path = tmp_path / "ng.txt"
    path.write_text("# test list\n賭博\n", encoding="utf-8")
    f = NgWordFilter(word_files=(str(path),))
    # 2 NG characters over 40 Japanese characters = 0.05: dropped (keep only < 0.05).
    at = "賭博" + "あ" * 38
    assert f.score(doc(at)) == {"ng_chars": 2.0, "ng_ratio": 0.05}
    assert f.decide(f.score(doc(at))) == "too_many_ng_words"
    below = "賭博" + "あ" * 39
    assert f.decide(f.score(doc(below))) is None
    # No Japanese characters: any hit drops, no hit keeps.
    assert f.decide(f.score(doc("hello"))) is None


def test_word_files_from_config_and_nfkc(tmp_path) -> None:
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_text("ｶｼﾞﾉ\n", encoding="utf-8")  # half-width: normalised to カジノ
    b.write_text("賭博\n", encoding="utf-8")
    f = build_filter("ng_words", {"word_files": [str(a), str(b)]})
    assert f.word_files == (str(a), str(b))
    assert f.score(doc("カジノと賭博"))["ng_chars"] == 5.0
    # Picklable before and after load; the compiled regex is not shipped.
    f.load()
    g = pickle.loads(pickle.dumps(f))
    assert g.score(doc("カジノ")) == f.score(doc("カジノ"))


def test_missing_file_raises(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        NgWordFilter(word_files=(str(tmp_path / "nope.txt"),)).load()


def test_a_word_longer_than_pythons_recursion_limit_compiles(tmp_path) -> None:
    """The trie was built recursively, one call per character: a list with a line of
    500 characters raised RecursionError in every worker."""
    long_word = "スパム" * 400
    pattern = trie_regex([long_word, "カジノ"])
    assert [m.group() for m in pattern.finditer("前" + long_word + "後カジノ")] == [long_word, "カジノ"]
    path = tmp_path / "ng.txt"
    path.write_text(long_word + "\n", encoding="utf-8")
    f = NgWordFilter(word_files=(str(path),))
    f.check()
    assert f.score(Doc(id="", url="", source="", crawl_date="", text=long_word))["ng_chars"] == len(long_word)
