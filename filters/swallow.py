"""Swallow corpus v1 quality rules (Okazaki et al. 2024).

Reproduces the rule-based quality filter of "Building a Large Japanese Web
Corpus for Large Language Models" (Okazaki et al., COLM 2024, Section 3.4),
split into five independent steps so each can be configured, counted and
re-decided on its own. All measurements come from the shared
:func:`filters.textstats.text_stats`, so the text is scanned once for all of
them. Character classes (hiragana, katakana, kanji, letters) are defined in
:mod:`filters.textstats`. Text is NFKC-normalised with one paragraph per line.

Every bound is inclusive on the keep side, as the paper states them ("at least
400 characters", "at most 0.2"...): a document exactly on a threshold is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Mapping

from filters.base import Filter
from filters.textstats import DUP_NGRAM_NS, TOP_NGRAM_NS, duplicate_fractions, text_stats
from schemas.records import Doc


def _doc(text: str) -> Doc:
    return Doc(id="", url="", source="", crawl_date="", text=text)


@dataclass(frozen=True)
class SwallowLengthFilter(Filter):
    """Drops documents with too few characters or too few Japanese characters.

    Scores:
        n_chars: code points of the text (newlines included).
        n_japanese_chars: hiragana + katakana + kanji.

    Thresholds:
        min_chars: minimum ``n_chars``, inclusive (Swallow: 400).
        min_japanese_chars: minimum ``n_japanese_chars``, inclusive (Swallow: 400).

    Reasons:
        too_short: ``n_chars < min_chars``.
        too_few_japanese_chars: ``n_japanese_chars < min_japanese_chars``.

    >>> f = SwallowLengthFilter()
    >>> f.decide(f.score(_doc("これはペンです。" * 60)))
    >>> f.decide(f.score(_doc("これはペンです。" * 40)))
    'too_short'
    >>> f.decide(f.score(_doc("これはpenです。" * 50)))
    'too_few_japanese_chars'
    """

    name: ClassVar[str] = "swallow_length"
    reasons: ClassVar[tuple[str, ...]] = ("too_short", "too_few_japanese_chars")
    min_chars: int = 400
    min_japanese_chars: int = 400

    def score(self, doc: Doc) -> dict[str, float]:
        st = text_stats(doc.text)
        return {"n_chars": float(st.n_chars), "n_japanese_chars": float(st.n_japanese)}

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
    is product lists or transliterated spam; a low share of Japanese among all
    letters means mostly Latin/Hangul/other-script text.

    Scores:
        hiragana_ratio: hiragana / Japanese characters (0 when there are none).
        katakana_ratio: katakana / Japanese characters (0 when there are none).
        japanese_letter_ratio: Japanese characters / letters (0 when no letters).

    Thresholds:
        min_hiragana_ratio: inclusive (Swallow: 0.2).
        max_katakana_ratio: inclusive (Swallow: 0.5).
        min_japanese_letter_ratio: inclusive (Swallow: 0.5). "Letters" are
            alphabetic code points of any script (``str.isalpha()``) plus 〇;
            digits, punctuation, symbols and spaces are not letters.

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
    min_hiragana_ratio: float = 0.2
    max_katakana_ratio: float = 0.5
    min_japanese_letter_ratio: float = 0.5

    def score(self, doc: Doc) -> dict[str, float]:
        st = text_stats(doc.text)
        ja = st.n_japanese
        return {
            "hiragana_ratio": st.n_hiragana / ja if ja else 0.0,
            "katakana_ratio": st.n_katakana / ja if ja else 0.0,
            "japanese_letter_ratio": ja / st.n_letters if st.n_letters else 0.0,
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

    Sentences: every line is split after each run of the sentence ends
    。．！？!? (the end stays in its sentence). After NFKC ．！？ are ASCII, and
    ASCII "." also appears in numbers, URLs and the NFKC form of "…" ("..."),
    so "." ends a sentence only when it is a single dot not followed by an
    ASCII letter or digit. A line without an end is one sentence. Lengths are
    in code points after stripping surrounding spaces.

    Scores:
        n_sentences: number of sentences.
        avg_sentence_chars: mean sentence length (0 when there are none).
        max_sentence_chars: longest sentence.
        ellipsis_sentence_ratio: share of sentences ending in ・ or an ellipsis
            (…, or "..", "..." which is what NFKC makes of ‥ and …).

    Thresholds:
        min_avg_sentence_chars: inclusive (Swallow: 20; shorter means lists,
            menus and headings).
        max_avg_sentence_chars: inclusive (Swallow: 90; longer means no
            punctuation: keyword lists, code, tables).
        max_sentence_chars: inclusive (Swallow: 200).
        max_ellipsis_sentence_ratio: inclusive (Swallow: 0.2; snippet lists
            of truncated teasers "続きを読む...").

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
    min_avg_sentence_chars: float = 20.0
    max_avg_sentence_chars: float = 90.0
    max_sentence_chars: int = 200
    max_ellipsis_sentence_ratio: float = 0.2

    def score(self, doc: Doc) -> dict[str, float]:
        sentences = text_stats(doc.text).sentences
        if not sentences:
            return {
                "n_sentences": 0.0,
                "avg_sentence_chars": 0.0,
                "max_sentence_chars": 0.0,
                "ellipsis_sentence_ratio": 0.0,
            }
        lengths = list(map(len, sentences))
        ellipsis = sum(1 for s in sentences if s.endswith(("・", "…", "..")))
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
    """Drops text with many repeated lines or sentences (Gopher repetition rules).

    A line (sentence) is a duplicate when an identical line (sentence) occurred
    earlier in the document; see :func:`filters.textstats.duplicate_fractions`.
    Lines are the non-empty stripped lines; sentences as in
    :class:`SwallowSentenceFilter`.

    Scores:
        dup_line_ratio, dup_line_char_ratio: duplicate lines / lines, and their
            characters / characters of all lines.
        dup_sentence_ratio, dup_sentence_char_ratio: the same for sentences.

    Thresholds (all inclusive; Swallow, from Gopher):
        max_dup_line_ratio: 0.30.
        max_dup_line_char_ratio: 0.20.
        max_dup_sentence_ratio: 0.30.
        max_dup_sentence_char_ratio: 0.20.

    Reasons:
        dup_lines, dup_line_chars, dup_sentences, dup_sentence_chars.

    >>> f = SwallowDuplicateFilter()
    >>> f.decide(f.score(_doc("一行目です。\\n二行目です。\\n三行目です。")))
    >>> f.decide(f.score(_doc("同じ行です。\\n同じ行です。\\n違う行です。")))
    'dup_lines'
    """

    name: ClassVar[str] = "swallow_duplicate"
    reasons: ClassVar[tuple[str, ...]] = ("dup_lines", "dup_line_chars", "dup_sentences", "dup_sentence_chars")
    max_dup_line_ratio: float = 0.30
    max_dup_line_char_ratio: float = 0.20
    max_dup_sentence_ratio: float = 0.30
    max_dup_sentence_char_ratio: float = 0.20

    def score(self, doc: Doc) -> dict[str, float]:
        st = text_stats(doc.text)
        line, line_chars = duplicate_fractions(st.lines)
        sent, sent_chars = duplicate_fractions(st.sentences)
        return {
            "dup_line_ratio": line,
            "dup_line_char_ratio": line_chars,
            "dup_sentence_ratio": sent,
            "dup_sentence_char_ratio": sent_chars,
        }

    def decide(self, scores: Mapping[str, float]) -> str | None:
        if scores["dup_line_ratio"] > self.max_dup_line_ratio:
            return "dup_lines"
        if scores["dup_line_char_ratio"] > self.max_dup_line_char_ratio:
            return "dup_line_chars"
        if scores["dup_sentence_ratio"] > self.max_dup_sentence_ratio:
            return "dup_sentences"
        if scores["dup_sentence_char_ratio"] > self.max_dup_sentence_char_ratio:
            return "dup_sentence_chars"
        return None


@dataclass(frozen=True)
class SwallowNgramFilter(Filter):
    """Drops text dominated by repeated character n-grams (Gopher rules on characters).

    Computed over the non-whitespace characters by
    :func:`filters.textstats.ngram_repetition` (one sort for all n):

    * ``top_<n>gram`` (n = 2, 3, 4): share of characters in the single most
      frequent n-gram (``count * n / chars``): catches one phrase spammed.
    * ``dup_<n>gram`` (n = 5..10): fraction of characters covered by n-grams
      that occur more than once, Gopher/RefinedWeb's definition (all
      occurrences count, overlaps once): catches templated, repeated blocks.

    Thresholds (all inclusive; Swallow, from Gopher's word values):
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
