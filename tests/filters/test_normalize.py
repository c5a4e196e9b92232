import pytest

from filters.normalize import NormalizeText, normalize_text
from schemas.records import Doc


def doc(text):
    return Doc(id="1", url="", source="", crawl_date="", text=text)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("ｶﾞｷﾞｸﾞ", "ガギグ"),  # half-width katakana + half-width dakuten compose
        ("か\u3099き\u309a", "がき\u309a"),  # combining dakuten composes; き+handakuten has no precomposed form, kept
        ("ＴＯＫＹＯ　２０２４", "TOKYO 2024"),  # full-width ASCII and ideographic space
        ("a\u200bb\ufeffc", "abc"),  # invisible characters
        ("行1\r\n\r\n\n  行2  \r行3", "行1\n行2\n行3"),
        ("x\x00y\x07z", "xyz"),
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


def test_dakuten_is_never_stripped():
    # The failure mode the style guide warns about: が must not become か.
    assert normalize_text("がぎぐげご") == "がぎぐげご"
    assert normalize_text("が") != normalize_text("か")


def test_nfkc_can_be_disabled():
    assert normalize_text("ＡＢ", nfkc=False) == "ＡＢ"


def test_step_rejects_empty_and_keeps_text():
    step = NormalizeText()
    new, scores = step.apply(doc(" \u200b \n\t"))
    assert step.decide(scores) == "empty"
    new, scores = step.apply(doc("ｱｲｳ"))
    assert step.decide(scores) is None and new.text == "アイウ" and new.n_chars == 3


def test_normalize_is_idempotent():
    text = "ＡＢＣ　ｶﾞ\n\n  日本語　テキスト"
    once = normalize_text(text)
    assert normalize_text(once) == once


def _reference_normalize(text: str, nfkc: bool = True) -> str:
    """The per-line implementation normalize_text replaced (same output, slower)."""
    import re
    import unicodedata

    invisible = "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069" \
        "\u202a\u202b\u202c\u202d\u202e\u061c\u180e\ufeff\u00ad"
    text = text.translate(dict.fromkeys(map(ord, invisible), None))
    text = "\n".join(re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "", line) for line in text.splitlines())
    if nfkc:
        text = unicodedata.normalize("NFKC", text)
    lines = (re.sub(r"[ \t\u3000\u00a0]+", " ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def test_matches_the_per_line_reference_on_random_whitespace():
    import random

    # Every kind of whitespace str.strip knows, every line boundary str.splitlines
    # knows, invisibles and bidi controls, controls, text.
    pieces = [" ", "\t", "\u3000", "\u00a0", "\n", "\r", "\r\n", "\u2028", "\u2029", "\u1680", "\u2003",
              "\u202f", "\x0b", "\x0c", "\x1c", "\x1e", "\x85", "\u200b", "\ufeff", "\u00ad", "\x00", "\x07",
              "\u200e", "\u200f", "\u202e", "\u2066", "\u061c",
              "あ", "が", "ｶﾞ", "Ａ", "b", "。", "1",
              # Bases and combining marks (kana dakuten, an acute, Hangul jamo) that
              # the removed characters above can keep apart.
              "か", "\u3099", "\u309a", "e", "\u0301", "\u1100", "\u1161"]
    rng = random.Random(3)
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        for nfkc in (True, False):
            once = normalize_text(text, nfkc)
            assert once == _reference_normalize(text, nfkc), repr(text)
            assert normalize_text(once, nfkc) == once, repr(text)  # one pass is enough


@pytest.mark.slow
def test_matches_the_per_line_reference_on_livedoor():
    from tests.conftest import SHARED_DATA

    root = SHARED_DATA / "text" / "livedoor-news-corpus"
    if not root.is_dir():
        pytest.skip("livedoor corpus not available")
    for p in sorted(root.glob("*/*-*.txt"))[::10]:
        text = p.read_text(encoding="utf-8")
        assert normalize_text(text) == _reference_normalize(text), p.name
