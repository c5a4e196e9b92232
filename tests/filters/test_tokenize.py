import pickle

import pytest

from filters.tokenize import SUDACHI_MAX_BYTES, SudachiTokenizer, chunk_text
from schemas.records import Doc


def doc(text):
    return Doc(id="1", url="", source="", crawl_date="", text=text)


def test_chunks_stay_below_the_sudachi_limit_and_lose_nothing():
    line = "吾輩は猫である。名前はまだ無い。" * 2000  # ~96 KB on one line
    text = "\n".join([line, "短い行", line])
    chunks = list(chunk_text(text, 40_000))
    assert all(len(c.encode("utf-8")) <= 40_000 for c in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")


def test_long_line_splits_after_sentence_end():
    chunks = list(chunk_text("あいうえお。" * 10, 30))
    assert all(c.rstrip("\n").endswith("。") for c in chunks)


def _split_long_reference(line: str, max_bytes: int) -> list[str]:
    # The definition: the longest prefix that fits, cut back to its last sentence end
    # (after its first character); at least one character per piece.
    out, start = [], 0
    while start < len(line):
        end = start + 1
        while end < len(line) and len(line[start : end + 1].encode("utf-8")) <= max_bytes:
            end += 1
        cut = end
        if end < len(line):
            for i in range(end - 1, start, -1):
                if line[i] in "。！？!?.":
                    cut = i + 1
                    break
        out.append(line[start:cut])
        start = cut
    return out


def test_long_line_split_matches_its_definition():
    import random

    from filters.tokenize import _split_long

    rng = random.Random(3)
    alphabet = "aあ😀。.!é\n"
    for _ in range(3000):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        max_bytes = rng.choice([1, 2, 3, 4, 5, 7, 9, 16])
        assert list(_split_long(line, max_bytes)) == _split_long_reference(line, max_bytes), (line, max_bytes)


def test_tokenizer_counts_and_noun_ratio():
    step = SudachiTokenizer()
    new, scores = step.apply(doc("東京都に住んでいます。"))
    # 東京都 / に / 住ん / で / い / ます / 。 ; the symbol is not a word
    assert scores["n_tokens"] == 7
    assert scores["n_words"] == 6
    assert scores["noun_ratio"] == pytest.approx(1 / 6)
    assert new.n_tokens == 7


def test_tokenizer_handles_text_over_the_sudachi_limit():
    step = SudachiTokenizer()
    text = "今日は良い天気です。" * 6000  # ~180 KB, far over 49,149 bytes
    assert len(text.encode()) > SUDACHI_MAX_BYTES
    _, scores = step.apply(doc(text))
    assert scores["n_tokens"] >= 6000 * 5


def test_split_modes_differ():
    text = "国家公務員の選挙管理委員会"
    a = SudachiTokenizer(mode="A").score(doc(text))["n_tokens"]
    c = SudachiTokenizer(mode="C").score(doc(text))["n_tokens"]
    assert a > c


def test_invalid_config_is_rejected():
    with pytest.raises(ValueError):
        SudachiTokenizer(mode="D")
    with pytest.raises(ValueError):
        SudachiTokenizer(chunk_bytes=SUDACHI_MAX_BYTES)


def test_loaded_tokenizer_pickles_without_its_dictionary():
    step = SudachiTokenizer()
    step.load()
    blob = pickle.dumps(step)
    assert len(blob) < 1000
    again = pickle.loads(blob)
    assert again.score(doc("猫です。"))["n_tokens"] == 3


def test_bounded_prefix_scales_token_count():
    text = "今日は良い天気です。\n" * 300  # 3,300 chars
    exact = SudachiTokenizer().score(doc(text))
    sampled = SudachiTokenizer(max_chars=1000).score(doc(text))
    assert exact["sampled"] == 1.0 and 0.3 < sampled["sampled"] < 0.31
    assert sampled["n_tokens"] == pytest.approx(exact["n_tokens"], rel=0.02)
    assert sampled["noun_ratio"] == pytest.approx(exact["noun_ratio"], abs=0.01)
    with pytest.raises(ValueError):
        SudachiTokenizer(max_chars=-1)


def test_digit_dense_text_is_tokenized_in_chunks_small_enough_to_stay_linear():
    """Sudachi's time per call grows with the square of its input on text dense in
    multi-digit numbers (a fuzzer's "12 " * 33,000 took 2.8 s in 40,000-byte
    chunks); the default chunk keeps that cost linear in the text. Measured as
    Sudachi calls and chunk sizes, not time: the default splits 99 KB into at
    least 12 calls of at most 8,000 bytes."""
    step = SudachiTokenizer()
    assert step.chunk_bytes == 8_000
    step.load()
    calls = []
    real = step._state["tokenizer"].tokenize

    class Counting:
        def tokenize(self, text, *args):
            calls.append(len(text.encode("utf-8")))
            return real(text, *args)

    step._state["tokenizer"] = Counting()
    _, scores = step.apply(doc("12 " * 33_000))
    assert len(calls) >= 12 and max(calls) <= 8_000
    assert scores["n_tokens"] >= 66_000 - 1
