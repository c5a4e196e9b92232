"""What a step's ``check()`` finds before a run writes anything, and thresholds at 0.

A resource that exists but cannot be used (a list in the wrong encoding, a regex
that does not compile, a file that is not a model) used to be found only by the
workers, after the previous output had been cleared.
"""

from __future__ import annotations

import pytest

from filters.hojichar_style import NounRatioFilter
from filters.langid import LanguageId, ResourceMissingError
from filters.ng_words import NgWordFilter
from filters.tokenize import SudachiTokenizer
from filters.url_blocklist import UrlBlocklistFilter
from schemas.records import Doc


def doc(text: str, url: str = "") -> Doc:
    return Doc(id="t", url=url, source="", crawl_date="", text=text)


def test_ng_word_list_not_in_utf8_fails_the_check(tmp_path):
    sjis = tmp_path / "ng_sjis.txt"
    sjis.write_bytes("オンラインカジノ\n".encode("cp932"))
    with pytest.raises(ValueError, match="is not UTF-8"):
        NgWordFilter(word_files=(str(sjis),)).check()
    utf8 = tmp_path / "ng.txt"
    utf8.write_text("オンラインカジノ\n", encoding="utf-8")
    NgWordFilter(word_files=(str(utf8),)).check()


def test_blocklist_regex_that_does_not_compile_fails_the_check(tmp_path):
    bad = tmp_path / "re.txt"
    bad.write_text("casino\\.example/\nbanned(\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"'banned\(' is not a regular expression"):
        UrlBlocklistFilter(regex_files=(str(bad),)).check()


def test_ut1_folder_must_exist_and_name_categories(tmp_path):
    with pytest.raises(ValueError, match="ut1_dir needs categories"):
        UrlBlocklistFilter(ut1_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="UT1 folder not found"):
        UrlBlocklistFilter(ut1_dir=str(tmp_path / "nope"), categories=("adult",)).check()


def test_a_file_that_is_not_a_fasttext_model_fails_the_check(tmp_path):
    fake = tmp_path / "lid.176.ftz"
    fake.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(ResourceMissingError, match="not a fastText model"):
        LanguageId(model_path=str(fake)).check()
    LanguageId().check()  # the bundled model passes


def test_a_file_that_is_not_a_sudachi_dictionary_fails_the_check(tmp_path):
    fake = tmp_path / "system.dic"
    fake.write_bytes(b"not a dictionary\n" * 10)
    with pytest.raises(ResourceMissingError, match="not a Sudachi system dictionary"):
        SudachiTokenizer(dict=str(fake)).check()


def test_langid_max_chars_zero_reads_the_whole_text():
    text = "This page starts in English for a long while. " * 100 + "吾輩は猫である。名前はまだ無い。" * 200
    assert LanguageId(max_chars=0).predict(text) == LanguageId(max_chars=len(text)).predict(text)
    assert LanguageId(max_chars=0).predict(text)[0] == "ja"
    assert LanguageId(max_chars=4000).predict(text)[0] == "en"


def test_max_ng_ratio_zero_means_no_ng_word_at_all():
    f = NgWordFilter(max_ng_ratio=0.0)
    assert f.decide(f.score(doc("今日は公園を散歩した。"))) is None
    assert f.decide(f.score(doc("今日は公園を散歩した。オンラインカジノ。"))) == "too_many_ng_words"


def test_max_noun_ratio_zero_keeps_text_without_nouns():
    f = NounRatioFilter(max_noun_ratio=0.0)
    assert f.decide({"noun_ratio": 0.0}) is None
    assert f.decide({"noun_ratio": 0.01}) == "too_many_nouns"


def test_blocklist_reject_says_which_entry_of_which_list(tmp_path):
    exact = tmp_path / "exact.txt"
    exact.write_text("exact.example\n", encoding="utf-8")
    suffix = tmp_path / "suffix.txt"
    suffix.write_text("casino.example\n", encoding="utf-8")
    regex = tmp_path / "re.txt"
    regex.write_text(r"/ban+ed/" + "\n", encoding="utf-8")
    ut1 = tmp_path / "ut1" / "gambling"
    ut1.mkdir(parents=True)
    (ut1 / "domains").write_text("bet.example\n", encoding="utf-8")
    (ut1 / "urls").write_text("news.example/lottery\n", encoding="utf-8")
    f = UrlBlocklistFilter(domain_files=(str(exact),), suffix_files=(str(suffix),), regex_files=(str(regex),),
                           ut1_dir=str(tmp_path / "ut1"), categories=("gambling",))
    cases = {
        "https://www.exact.example/a": ("blocked_domain", "domain exact.example (exact.txt)"),
        "https://jp.casino.example/a": ("blocked_domain", "domain suffix casino.example (suffix.txt)"),
        "https://a.bet.example:8080/": ("blocked_domain", "domain suffix bet.example (ut1:gambling)"),
        "https://news.example/lottery/2026?x=1": ("blocked_url", "url prefix news.example/lottery (ut1:gambling)"),
        "https://news.example/x/bannned/y": ("blocked_url", "url pattern matched '/bannned/'"),
    }
    for url, (reason, detail) in cases.items():
        d = doc("本文", url)
        scores = f.score(d)
        assert f.decide(scores) == reason, url
        assert f.detail(d, scores, reason) == detail, url
    kept = doc("本文", "https://news.example/lotteryx")
    assert f.decide(f.score(kept)) is None


def test_urls_without_a_scheme_are_matched(tmp_path):
    suffix = tmp_path / "suffix.txt"
    suffix.write_text("casino.example\n", encoding="utf-8")
    ut1 = tmp_path / "ut1" / "gambling"
    ut1.mkdir(parents=True)
    (ut1 / "urls").write_text("news.example/lottery\n", encoding="utf-8")
    f = UrlBlocklistFilter(suffix_files=(str(suffix),), ut1_dir=str(tmp_path / "ut1"), categories=("gambling",))
    assert f.decide(f.score(doc("本文", "jp.casino.example/x"))) == "blocked_domain"
    assert f.decide(f.score(doc("本文", "news.example/lottery/1"))) == "blocked_url"
    assert f.decide(f.score(doc("本文", "news.example/sports/1"))) is None


def test_regexes_that_compile_alone_but_not_joined_fail_the_check(tmp_path):
    """load() searches one pattern made of all entries; a global flag in the middle breaks it."""
    f = tmp_path / "re.txt"
    f.write_text("poker\n(?i)casino\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"cannot be combined into one pattern .*\(\?i:\.\.\.\)"):
        UrlBlocklistFilter(regex_files=(str(f),)).check()
    f.write_text("poker\n(?i:casino)\n", encoding="utf-8")
    ok = UrlBlocklistFilter(regex_files=(str(f),))
    ok.check()
    assert ok.decide(ok.score(doc("本文", "https://x.example/CASINO"))) == "blocked_url"


def test_scheme_less_url_with_a_url_in_its_query():
    from filters.url_blocklist import url_host

    assert url_host("casino.example/r?u=http://x.jp") == "casino.example"
    assert url_host("https://casino.example/r?u=http://x.jp") == "casino.example"


def test_the_installed_sudachi_dictionary_passes_the_check():
    import importlib.util
    import os

    spec = importlib.util.find_spec("sudachidict_core")
    path = os.path.join(os.path.dirname(spec.origin), "resources", "system.dic")
    SudachiTokenizer(dict=path).check()


def test_nan_and_large_maxima():
    from filters.compression import CompressionRatioFilter
    from filters.hiragana import HiraganaRatioFilter

    with pytest.raises(ValueError, match="min_ratio must be a share"):
        HiraganaRatioFilter(min_ratio=float("nan"))
    # Tiny texts compress to more than their size: a maximum above 1 is a legitimate setting.
    f = CompressionRatioFilter(max_compression_ratio=5.0)
    assert f.decide(f.score(doc("あ"))) is None
