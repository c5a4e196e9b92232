"""Swallow corpus v1 quality rules (Okazaki et al. 2024).

Reproduces the rule-based quality filter of "Building a Large Japanese Web
Corpus for Large Language Models" (Okazaki et al., COLM 2024, Section 3.4) with
the exact definitions of the authors' reference implementation ("Assess
Japanese text quality", Naoaki Okazaki, 2023-2024, MIT licence; its
``apply_v1`` decides), reimplemented here. The rules are split into five
independent steps so each can be configured, counted and re-decided on its
own; a document passes all five exactly when ``apply_v1`` accepts it (only the
reported reason may differ from the reference's first failing rule). All
measurements come from the shared :func:`filters.textstats.text_stats`, which
holds the definitions:

* paragraphs: the lines of ``text.split("\\n")`` (empty lines included), each
  the concatenation of its sentences (:func:`filters.textstats.swallow_paragraphs`);
* sentences: per line, the matches of "one or more non-terminators followed by
  an optional terminator", terminators 。．！？!? (not stripped;
  :func:`filters.textstats.swallow_sentences`);
* letters: every code point of the text (``len(text)``); Japanese letters:
  hiragana + katakana + kanji + kuten + toten
  (:func:`filters.textstats.swallow_letter_counts`);
* n-grams: all overlapping character windows of the whole text, newlines
  included (:func:`filters.textstats.swallow_ngram_fractions`).

Our text is NFKC-normalised; the reference ran on raw text. NFKC maps ！？．，…
to !?.,... . Choices, measured on livedoor news (raw vs NFKC):

* ASCII !? count as kuten (88% of them were ！？ in raw text); ASCII "." and ","
  are not kuten/toten and "." does not end a sentence (97% and 99% were ASCII
  in raw text already).
* A sentence ending in "..." (NFKC of …) counts as ending in an ellipsis, like
  … and ・ in the reference.
* Kanji include U+20000..U+2FFFF, which the reference meant with its UTF-16
  surrogate-pair alternative (in Python 3 that alternative never matches).

Differences from the reference on degenerate input: it raises on a text with
no sentence (``max``) or shorter than 4 characters (``most_common``); we score
0 there (such texts fail ``min_chars`` anyway).

Every bound is inclusive on the keep side, as in ``apply_v1`` (``<`` and ``>``
reject): a document exactly on a threshold is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Mapping

from filters.base import COUNT, SHARE, Filter
from filters.textstats import DUP_NGRAM_NS, SWALLOW_ELLIPSES, TOP_NGRAM_NS, duplicate_fractions, text_stats
from schemas.records import Doc


def _doc(text: str) -> Doc:
    return Doc(id="", url="", source="", crawl_date="", text=text)


@dataclass(frozen=True)
class SwallowLengthFilter(Filter):
    """Drops documents with too few characters or too few Japanese letters.

    Scores:
        n_chars: every code point of the text, newlines included (the
            reference's ``num_letters``).
        n_japanese_chars: Japanese letters: hiragana + katakana + kanji + kuten
            + toten (the reference's ``num_japanese_letters``; see the module
            docstring).

    Thresholds:
        min_chars: minimum ``n_chars``, inclusive (Swallow: 400).
        min_japanese_chars: minimum ``n_japanese_chars``, inclusive (Swallow: 400).

    Reasons:
        too_short: ``n_chars < min_chars``.
        too_few_japanese_chars: ``n_japanese_chars < min_japanese_chars``.

    >>> f = SwallowLengthFilter()
    >>> f.decide(f.score(_doc("これはペンです。" * 50)))
    >>> f.decide(f.score(_doc("これはペンです。" * 49)))
    'too_short'
    >>> f.decide(f.score(_doc("これはpenです。" * 50)))
    'too_few_japanese_chars'
    """

    name: ClassVar[str] = "swallow_length"
    reasons: ClassVar[tuple[str, ...]] = ("too_short", "too_few_japanese_chars")
    bounds: ClassVar = {"min_chars": COUNT, "min_japanese_chars": COUNT}
    min_chars: int = 400
    min_japanese_chars: int = 400

    def score(self, doc: Doc) -> dict[str, float]:
        letters = text_stats(doc.text).swallow_letters
        return {"n_chars": float(len(doc.text)), "n_japanese_chars": float(sum(letters.values()))}

    def decide(self, scores: Mapping[str, float]) -> str | None:
        if scores["n_chars"] < self.min_chars:
            return "too_short"
        if scores["n_japanese_chars"] < self.min_japanese_chars:
            return "too_few_japanese_chars"
        return None


@dataclass(frozen=True)
class SwallowCharRatioFilter(Filter):
    """Drops text whose script mix is not Japanese prose.

    Japanese prose needs hiragana (particles, inflections); katakana-heavy text
    is product lists or transliterated spam; a low share of Japanese letters
    among all characters means mostly Latin/Hangul/digits/symbols.

    Scores (Japanese letters as in :class:`SwallowLengthFilter`):
        hiragana_ratio: hiragana / Japanese letters (0 when there are none).
        katakana_ratio: katakana / Japanese letters (0 when there are none).
        japanese_letter_ratio: Japanese letters / all characters of the text
            (``len(text)``, newlines and spaces included; 0 for empty text).

    Thresholds:
        min_hiragana_ratio: inclusive (Swallow: 0.2).
        max_katakana_ratio: inclusive (Swallow: 0.5).
        min_japanese_letter_ratio: inclusive (Swallow: 0.5).

    Reasons:
        too_few_hiragana, too_much_katakana, too_few_japanese_letters.

    >>> f = SwallowCharRatioFilter()
    >>> f.decide(f.score(_doc("今日は天気がいいので散歩します。")))
    >>> f.decide(f.score(_doc("東京都千代田区丸の内")))
    'too_few_hiragana'
    >>> f.decide(f.score(_doc("スマートフォンケースをセールで買いました")))
    'too_much_katakana'
    >>> f.decide(f.score(_doc("This is a pen and this is a book です。")))
    'too_few_japanese_letters'
    """

    name: ClassVar[str] = "swallow_char_ratio"
    reasons: ClassVar[tuple[str, ...]] = ("too_few_hiragana", "too_much_katakana", "too_few_japanese_letters")
    bounds: ClassVar = {"min_hiragana_ratio": SHARE, "max_katakana_ratio": SHARE, "min_japanese_letter_ratio": SHARE}
    min_hiragana_ratio: float = 0.2
    max_katakana_ratio: float = 0.5
    min_japanese_letter_ratio: float = 0.5

    def score(self, doc: Doc) -> dict[str, float]:
        letters = text_stats(doc.text).swallow_letters
        ja = sum(letters.values())
        return {
            "hiragana_ratio": letters["hiragana"] / ja if ja else 0.0,
            "katakana_ratio": letters["katakana"] / ja if ja else 0.0,
            "japanese_letter_ratio": ja / len(doc.text) if doc.text else 0.0,
        }

    def decide(self, scores: Mapping[str, float]) -> str | None:
        if scores["hiragana_ratio"] < self.min_hiragana_ratio:
            return "too_few_hiragana"
        if scores["katakana_ratio"] > self.max_katakana_ratio:
            return "too_much_katakana"
        if scores["japanese_letter_ratio"] < self.min_japanese_letter_ratio:
            return "too_few_japanese_letters"
        return None


@dataclass(frozen=True)
class SwallowSentenceFilter(Filter):
    """Drops text whose sentences are too short, too long or truncated.

    Sentences as in the reference (module docstring): per line, runs of
    non-terminators each with an optional terminator 。．！？!?; not stripped,
    lengths in code points. ASCII "." does not end a sentence.

    Scores:
        n_sentences: number of sentences.
        avg_sentence_chars: total sentence characters / sentences (0 when none).
        max_sentence_chars: longest sentence (0 when none).
        ellipsis_sentence_ratio: sentences whose stripped text ends with ・, …
            or "..." (NFKC of …) / sentences (0 when none).

    Thresholds:
        min_avg_sentence_chars: inclusive (Swallow: 20; shorter means lists,
            menus and headings).
        max_avg_sentence_chars: inclusive (Swallow: 90; longer means no
            punctuation: keyword lists, code, tables).
        max_sentence_chars: inclusive (Swallow: 200).
        max_ellipsis_sentence_ratio: inclusive (Swallow: 0.2; snippet lists
            of truncated teasers "続きを読む…").

    Reasons:
        avg_sentence_too_short, avg_sentence_too_long, sentence_too_long,
        too_many_ellipsis_sentences.

    >>> f = SwallowSentenceFilter()
    >>> f.decide(f.score(_doc("今日は朝から雨が降っていたので、傘を持って出かけました。")))
    >>> f.decide(f.score(_doc("はい。いいえ。そうです。")))
    'avg_sentence_too_short'
    >>> f.decide(f.score(_doc("新着記事の見出しがここに入りますが本文は表示されません...")))
    'too_many_ellipsis_sentences'
    """

    name: ClassVar[str] = "swallow_sentence"
    reasons: ClassVar[tuple[str, ...]] = (
        "avg_sentence_too_short",
        "avg_sentence_too_long",
        "sentence_too_long",
        "too_many_ellipsis_sentences",
    )
    bounds: ClassVar = {"min_avg_sentence_chars": COUNT, "max_avg_sentence_chars": COUNT,
                        "max_sentence_chars": (1, None), "max_ellipsis_sentence_ratio": SHARE}
    ordered: ClassVar = (("min_avg_sentence_chars", "max_avg_sentence_chars"),)
    min_avg_sentence_chars: float = 20.0
    max_avg_sentence_chars: float = 90.0
    max_sentence_chars: int = 200
    max_ellipsis_sentence_ratio: float = 0.2

    def score(self, doc: Doc) -> dict[str, float]:
        sentences = text_stats(doc.text).swallow_sentences
        if not sentences:
            return {
                "n_sentences": 0.0,
                "avg_sentence_chars": 0.0,
                "max_sentence_chars": 0.0,
                "ellipsis_sentence_ratio": 0.0,
            }
        lengths = list(map(len, sentences))
        # rstrip() is enough: only the end is tested (the reference strips both sides).
        ellipsis = sum(1 for s in sentences if s.rstrip().endswith(SWALLOW_ELLIPSES))
        return {
            "n_sentences": float(len(sentences)),
            "avg_sentence_chars": sum(lengths) / len(lengths),
            "max_sentence_chars": float(max(lengths)),
            "ellipsis_sentence_ratio": ellipsis / len(sentences),
        }

    def decide(self, scores: Mapping[str, float]) -> str | None:
        if scores["avg_sentence_chars"] < self.min_avg_sentence_chars:
            return "avg_sentence_too_short"
        if scores["avg_sentence_chars"] > self.max_avg_sentence_chars:
            return "avg_sentence_too_long"
        if scores["max_sentence_chars"] > self.max_sentence_chars:
            return "sentence_too_long"
        if scores["ellipsis_sentence_ratio"] > self.max_ellipsis_sentence_ratio:
            return "too_many_ellipsis_sentences"
        return None


@dataclass(frozen=True)
class SwallowDuplicateFilter(Filter):
    """Drops text with many repeated paragraphs (lines) or sentences.

    Paragraphs and sentences as in the reference (module docstring; a
    "line" here is one of its paragraphs: every line of the text, empty ones
    included, without terminators that follow a terminator). For items X, the
    duplicate fraction is sum over distinct items of (frequency - 1) / len(X),
    and by characters sum of len(item) * (frequency - 1) / characters of all
    items (:func:`filters.textstats.duplicate_fractions`).

    Scores:
        dup_line_ratio, dup_line_char_ratio: the two fractions of paragraphs.
        dup_sentence_ratio, dup_sentence_char_ratio: the same for sentences.

    Thresholds (all inclusive; Swallow, from Gopher):
        max_dup_line_ratio: 0.30.
        max_dup_line_char_ratio: 0.20.
        max_dup_sentence_ratio: 0.30.
        max_dup_sentence_char_ratio: 0.20.

    Reasons (checked in the reference's order):
        dup_lines, dup_sentences, dup_line_chars, dup_sentence_chars.

    >>> f = SwallowDuplicateFilter()
    >>> f.decide(f.score(_doc("一行目です。\\n二行目です。\\n三行目です。")))
    >>> f.decide(f.score(_doc("同じ行です。\\n同じ行です。\\n違う行です。")))
    'dup_lines'
    """

    name: ClassVar[str] = "swallow_duplicate"
    reasons: ClassVar[tuple[str, ...]] = ("dup_lines", "dup_sentences", "dup_line_chars", "dup_sentence_chars")
    bounds: ClassVar = {f: SHARE for f in ("max_dup_line_ratio", "max_dup_line_char_ratio", "max_dup_sentence_ratio",
                                           "max_dup_sentence_char_ratio")}
    max_dup_line_ratio: float = 0.30
    max_dup_line_char_ratio: float = 0.20
    max_dup_sentence_ratio: float = 0.30
    max_dup_sentence_char_ratio: float = 0.20

    def score(self, doc: Doc) -> dict[str, float]:
        st = text_stats(doc.text)
        line, line_chars = duplicate_fractions(st.swallow_paragraphs)
        sent, sent_chars = duplicate_fractions(st.swallow_sentences)
        return {
            "dup_line_ratio": line,
            "dup_line_char_ratio": line_chars,
            "dup_sentence_ratio": sent,
            "dup_sentence_char_ratio": sent_chars,
        }

    def decide(self, scores: Mapping[str, float]) -> str | None:
        if scores["dup_line_ratio"] > self.max_dup_line_ratio:
            return "dup_lines"
        if scores["dup_sentence_ratio"] > self.max_dup_sentence_ratio:
            return "dup_sentences"
        if scores["dup_line_char_ratio"] > self.max_dup_line_char_ratio:
            return "dup_line_chars"
        if scores["dup_sentence_char_ratio"] > self.max_dup_sentence_char_ratio:
            return "dup_sentence_chars"
        return None


@dataclass(frozen=True)
class SwallowNgramFilter(Filter):
    """Drops text dominated by repeated character n-grams.

    N-grams are all overlapping windows of the whole text (newlines and spaces
    included), as in the reference; see
    :func:`filters.textstats.swallow_ngram_fractions`:

    * ``top_<n>gram`` (n = 2, 3, 4): occurrences of the most frequent n-gram /
      number of n-grams: catches one phrase spammed.
    * ``dup_<n>gram`` (n = 5..10): distinct n-grams occurring more than once /
      distinct n-grams: catches templated, repeated blocks. (Not Gopher's
      share of characters covered by repeated n-grams, which rejected 85% of
      livedoor news with these thresholds.)

    Both are 0 when the text is shorter than n.

    Thresholds (all inclusive; Swallow):
        max_top_2gram_ratio 0.20, max_top_3gram_ratio 0.18,
        max_top_4gram_ratio 0.16, max_dup_5gram_ratio 0.15,
        max_dup_6gram_ratio 0.14, max_dup_7gram_ratio 0.13,
        max_dup_8gram_ratio 0.12, max_dup_9gram_ratio 0.11,
        max_dup_10gram_ratio 0.10.

    Reasons:
        ``top_<n>gram`` and ``dup_<n>gram``: the first n-gram rule exceeded, in
        the order above.

    >>> f = SwallowNgramFilter()
    >>> f.decide(f.score(_doc("吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。")))
    >>> f.decide(f.score(_doc("ワンワン" * 30)))
    'top_2gram'
    """

    name: ClassVar[str] = "swallow_ngram"
    reasons: ClassVar[tuple[str, ...]] = tuple(f"top_{n}gram" for n in TOP_NGRAM_NS) + tuple(
        f"dup_{n}gram" for n in DUP_NGRAM_NS
    )
    bounds: ClassVar = {**{f"max_top_{n}gram_ratio": SHARE for n in TOP_NGRAM_NS},
                        **{f"max_dup_{n}gram_ratio": SHARE for n in DUP_NGRAM_NS}}
    max_top_2gram_ratio: float = 0.20
    max_top_3gram_ratio: float = 0.18
    max_top_4gram_ratio: float = 0.16
    max_dup_5gram_ratio: float = 0.15
    max_dup_6gram_ratio: float = 0.14
    max_dup_7gram_ratio: float = 0.13
    max_dup_8gram_ratio: float = 0.12
    max_dup_9gram_ratio: float = 0.11
    max_dup_10gram_ratio: float = 0.10

    def score(self, doc: Doc) -> dict[str, float]:
        return dict(text_stats(doc.text).ngram_stats)

    def decide(self, scores: Mapping[str, float]) -> str | None:
        for reason in self.reasons:
            kind, gram = reason.split("_")
            if scores[reason] > getattr(self, f"max_{kind}_{gram}_ratio"):
                return reason
        return None
