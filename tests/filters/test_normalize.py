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
