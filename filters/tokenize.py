"""Japanese morphological analysis with SudachiPy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Iterator

from filters.base import COUNT, Filter
from filters.langid import ResourceMissingError
from schemas.records import Doc

# Sudachi refuses inputs longer than 49,149 bytes (megagonlabs/ginza#242).
SUDACHI_MAX_BYTES = 49_149
_SENTENCE_ENDS = "。！？!?."
# POS (first level) that are not words: excluded from the denominators.
_NON_WORD_POS = frozenset({"補助記号", "空白"})


def chunk_text(text: str, max_bytes: int) -> Iterator[str]:
    """Splits ``text`` into pieces of at most ``max_bytes`` UTF-8 bytes.

    Splits between lines where possible, then after sentence ends, then anywhere,
    so no chunk ever reaches Sudachi's input limit.

    >>> chunks = list(chunk_text("あいう\\nえおか。きくけこ", 9))
    >>> all(len(c.encode()) <= 9 for c in chunks), "".join(chunks).replace("\\n", "")
    (True, 'あいうえおか。きくけこ')
    >>> "".join(chunk_text("ab\\ncd", 3)).replace("\\n", "") == "abcd"
    True
    """
    if len(text.encode("utf-8")) <= max_bytes:
        yield text
        return
    buf: list[str] = []
    size = 0
    for line in text.split("\n"):
        piece = line + "\n"
        n = len(piece.encode("utf-8"))
        if n > max_bytes:
            if buf:
                yield "".join(buf)
                buf, size = [], 0
            yield from _split_long(piece, max_bytes)
            continue
        if size + n > max_bytes:
            yield "".join(buf)
            buf, size = [], 0
        buf.append(piece)
        size += n
    if buf:
        yield "".join(buf)


def _split_long(line: str, max_bytes: int) -> Iterator[str]:
    """Pieces of one line, each the longest prefix of at most ``max_bytes`` UTF-8 bytes,
    cut back to its last sentence end if it has one (after its first character).

    Encodes the line once and cuts the bytes at character starts: linear in the
    line. (Growing each piece by one character and re-encoding it cost ~50 ms per
    40 KB piece, 3x Sudachi's own time on a 1 MB line.)
    """
    data = line.encode("utf-8")
    pos = 0
    while pos < len(data):
        end = min(len(data), pos + max_bytes)
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte
            end -= 1
        if end == pos:  # max_bytes below one character's size: take that character
            end += 1
            while end < len(data) and data[end] & 0xC0 == 0x80:
                end += 1
        piece = data[pos:end].decode("utf-8")
        if end < len(data):
            cut = max(piece.rfind(c) for c in _SENTENCE_ENDS)
            if cut > 0:
                piece = piece[: cut + 1]
        yield piece
        pos += len(piece.encode("utf-8"))


def _prefix(text: str, max_chars: int) -> str:
    """The first ``max_chars`` characters, cut back to a line or sentence end if one is in the second half.

    >>> _prefix("一行目。\\n二行目です。三文目", 12)
    '一行目。\\n二行目です。'
    """
    head = text[:max_chars]
    for i in range(len(head) - 1, len(head) // 2, -1):
        if head[i] == "\n" or head[i] in _SENTENCE_ENDS:
            return head[: i + 1]
    return head


@dataclass(frozen=True)
class SudachiTokenizer(Filter):
    """Tokenises with SudachiPy and records the morphology statistics filters need.

    Text is chunked below Sudachi's 49,149-byte input limit (:func:`chunk_text`).
    Only the ``pos`` field is loaded from the dictionary (Sudachi subsetting),
    which is all the statistics below need.

    Scores:
        n_tokens: morphemes, symbols included.
        n_words: morphemes that are not symbols or whitespace (補助記号, 空白).
        noun_ratio: 名詞 / n_words (0 when there are no words); used by the
            HojiChar-style too-many-nouns filter.
        particle_ratio: 助詞 / n_words.

    Thresholds:
        mode: Sudachi split mode A, B or C (default C, the longest units).
        dict: dictionary edition installed from PyPI (``core``; ``small``/``full``
            if their packages are installed) or a path to a ``system.dic``.
        chunk_bytes: chunk size, below 49,149 (default 8,000: Sudachi's time per call
            grows with the square of its size on text dense in numbers, 2.8 s for 99 KB of
            "12 " in 40,000-byte chunks against 0.7 s in 8,000; news text costs the same).
        max_chars: 0 (default) tokenizes the whole text. A positive value
            tokenizes only the first ``max_chars`` characters (cut back to the last
            line or sentence end) and scales ``n_tokens`` to the full length; the
            ratios are then those of the prefix. Sudachi costs ~1.3 ms per 1,400-char
            page (bench/RESULTS.md), the largest per-document cost after extraction:
            a bounded prefix caps it for long pages.

    Scores also include ``sampled``: the share of the text that was tokenized (1.0
    when exact).

    This step never drops a document (no reasons).
    """

    name: ClassVar[str] = "tokenize"
    stage: ClassVar[str] = "tokenize"
    reasons: ClassVar[tuple[str, ...]] = ()
    # max_chars 0 = the whole text; chunks stay below Sudachi's input limit.
    bounds: ClassVar = {"max_chars": COUNT, "chunk_bytes": (1, SUDACHI_MAX_BYTES - 1)}
    mode: str = "C"
    dict: str = "core"
    chunk_bytes: int = 8_000
    max_chars: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.mode not in ("A", "B", "C"):
            raise ValueError(f"mode must be A, B or C, not {self.mode!r}")

    def check(self) -> None:
        import importlib.util
        import os

        if self.dict.endswith(".dic"):
            if not os.path.isfile(self.dict):
                raise ResourceMissingError(f"Sudachi dictionary not found: {self.dict}")
            try:
                from sudachipy import Dictionary
            except ImportError as exc:  # pragma: no cover - a hard dependency
                raise ResourceMissingError("sudachipy is not installed") from exc
            try:  # opening a dictionary maps it (~40 ms for the core one): a wrong file fails here
                Dictionary(dict_type=None, dict=self.dict)
            except Exception as exc:  # noqa: BLE001 - SudachiError and friends
                raise ResourceMissingError(f"not a Sudachi system dictionary: {self.dict} "
                                           f"({str(exc)[:120]})") from None
        elif not self.dict.isidentifier() or importlib.util.find_spec(f"sudachidict_{self.dict}") is None:
            # A name with a dot or a slash is no sudachidict package (and find_spec
            # would try to import its "parent"): a path that does not end in .dic.
            raise ResourceMissingError(f"Sudachi dictionary {self.dict!r} not available: give a dictionary name "
                                       "(core, small, full: install sudachidict-<name>) or the path of a "
                                       "system dictionary file ending in .dic")

    def load(self) -> None:
        if "tokenizer" in self._state:
            return
        try:
            from sudachipy import Dictionary
        except ImportError as exc:  # pragma: no cover - hard dependency
            raise ResourceMissingError("sudachipy is not installed") from exc
        try:
            if self.dict.endswith(".dic"):
                dictionary = Dictionary(dict_type=None, dict=self.dict)
            else:
                dictionary = Dictionary(dict=self.dict)
        except Exception as exc:
            fix = "" if self.dict.endswith(".dic") else f": install sudachidict-{self.dict} or give a system.dic path"
            raise ResourceMissingError(f"Sudachi dictionary {self.dict!r} not available{fix} ({exc})") from exc
        tokenizer = dictionary.tokenizer(mode=self.mode, fields={"pos"})
        # Map POS id -> first-level POS once; morphemes then only return an int.
        first = []
        i = 0
        while True:
            pos = dictionary.pos_of(i)
            if pos is None:
                break
            first.append(pos[0])
            i += 1
        self._state["tokenizer"] = tokenizer
        self._state["pos_first"] = first

    def score(self, doc: Doc) -> dict[str, float]:
        self.load()
        tokenizer = self._state["tokenizer"]
        pos_first = self._state["pos_first"]
        text = doc.text
        if self.max_chars and len(text) > self.max_chars:
            text = _prefix(text, self.max_chars)
        n_tokens = n_words = nouns = particles = 0
        for chunk in chunk_text(text, self.chunk_bytes):
            for m in tokenizer.tokenize(chunk):
                n_tokens += 1
                p = pos_first[m.part_of_speech_id()]
                if p in _NON_WORD_POS:
                    continue
                n_words += 1
                if p == "名詞":
                    nouns += 1
                elif p == "助詞":
                    particles += 1
        sampled = len(text) / len(doc.text) if doc.text else 1.0
        return {
            "n_tokens": float(round(n_tokens / sampled)) if sampled else float(n_tokens),
            "n_words": float(round(n_words / sampled)) if sampled else float(n_words),
            "sampled": sampled,
            "noun_ratio": nouns / n_words if n_words else 0.0,
            "particle_ratio": particles / n_words if n_words else 0.0,
        }

    def apply(self, doc: Doc) -> tuple[Doc, dict[str, float]]:
        scores = self.score(doc)
        return doc._replace(n_tokens=int(scores["n_tokens"])), scores
