"""The Beam-free half of the site boilerplate step: sites, units, keys, stripping."""

from __future__ import annotations

import pytest

from filters.base import ConfigError, build_filter
from filters.boilerplate import SiteBoilerplate, line_key, page_of, removable, site_of, units
from schemas.records import Doc


def doc(text: str, url: str = "https://blog.example.jp/1", id: str = "1") -> Doc:
    return Doc(id=id, url=url, source="s", crawl_date="", text=text, n_chars=len(text))


@pytest.mark.parametrize("url, site", [
    ("https://blog.example.jp/2024/01/post.html", "blog.example.jp"),
    ("http://WWW.Example.JP./a", "example.jp"),           # case, www. and the root dot
    ("https://user:secret@news.example.jp:8443/x", "news.example.jp"),
    ("example.jp/no-scheme", "example.jp"),               # JSONL URLs often have no scheme
    ("https://例え.jp/", "xn--r8jz45g.jp"),                 # one spelling per host
    ("https://[::1/", ""),                                # invalid IPv6 literal: no site, no error
    ("", ""),
])
def test_site_of(url, site):
    assert site_of(url) == site


def test_units_keep_a_table_together_and_every_other_line_apart():
    text = "見出し\n| 名前 | 値 |\n|---|---|\n| a | 1 |\n本文。\n| 別の表 |"
    assert units(text) == ["見出し", "| 名前 | 値 |\n|---|---|\n| a | 1 |", "本文。", "| 別の表 |"]
    assert "\n".join(units(text)) == text


@pytest.mark.parametrize("unit, expected", [
    ("■関連記事", True),
    ("Copyright 2026 Example Inc.", True),
    ("| 名前 | 値 |\n|---|---|", True),        # a whole table may be a template's
    ("・・・", False), ("}", False), ("----", False), ("", False),
    ("</Directory>", False), ("<br/>", False),
    ("<Directory /var/www> の設定", True),       # prose that mentions a tag
])
def test_removable(unit, expected):
    assert removable(unit) is expected


def test_line_keys_are_per_site_distinct_and_skip_unremovable_units():
    step = SiteBoilerplate()
    d = doc("ヘッダー\n本文\nヘッダー\n---")
    keys = step.line_keys(d)
    assert keys == sorted({line_key("blog.example.jp", "ヘッダー"), line_key("blog.example.jp", "本文")})
    assert step.line_keys(d._replace(url="https://other.example.jp/")) != keys
    assert step.line_keys(d._replace(url="")) == []
    assert step.line_keys(d._replace(text="")) == []


def test_strip_removes_frequent_units_and_counts_lines_and_characters():
    step = SiteBoilerplate()
    table = "| メニュー | リンク |\n|---|---|\n| ホーム | / |"
    d = doc(f"ヘッダー\n{table}\n本文です。\nフッター")
    key = lambda u: line_key("blog.example.jp", u)  # noqa: E731
    new, scores = step.strip(d, {key("ヘッダー"), key(table), key("フッター")})
    assert new.text == "本文です。" and new.n_chars == 5
    assert scores == {"lines_removed": 5.0, "chars_removed": float(len(d.text) - 5)}
    assert new.id == d.id and new.url == d.url
    # Keys of another site never match.
    other = d._replace(url="https://other.example.jp/")
    assert step.strip(other, {key("ヘッダー")}) == (other, {"lines_removed": 0.0, "chars_removed": 0.0})


def test_strip_leaves_a_document_whole_when_nothing_of_its_own_would_be_left():
    step = SiteBoilerplate()
    key = lambda u: line_key("blog.example.jp", u)  # noqa: E731
    d = doc("ヘッダー\n・・・\nフッター")
    assert step.strip(d, {key("ヘッダー"), key("フッター")})[0] is d


def test_strip_takes_the_separators_inside_an_edge_run_and_leaves_a_run_of_separators_alone():
    step = SiteBoilerplate()
    key = lambda u: line_key("blog.example.jp", u)  # noqa: E731
    d = doc("ヘッダー\n・・・\n本文\n---\nフッター\n</div>")
    new, scores = step.strip(d, {key("ヘッダー"), key("フッター")})
    assert new.text == "本文" and scores["lines_removed"] == 5.0
    d2 = doc("---\n本文\nフッター")
    assert step.strip(d2, {key("フッター")})[0].text == "---\n本文"


def test_frequent_lines_inside_the_page_stay():
    step = SiteBoilerplate()
    key = lambda u: line_key("blog.example.jp", u)  # noqa: E731
    d = doc("ヘッダー\n本文1\nよろしくお願いします。\nimport os\n本文2\nフッター")
    new, _ = step.strip(d, {key(u) for u in ("ヘッダー", "よろしくお願いします。", "import os", "フッター")})
    assert new.text == "本文1\nよろしくお願いします。\nimport os\n本文2"


@pytest.mark.parametrize("url, page", [
    ("https://a.jp/x?p=1#top", "/x?p=1"),
    ("http://a.jp/x?utm_source=t&p=1&fbclid=9&gclid=1", "/x?p=1"),  # tracking parameters name no page
    ("http://a.jp/x;jsessionid=AB12?PHPSESSID=z", "/x"),            # nor do sessions
    ("http://a.jp", "/"), ("http://a.jp/?ref=rss", "/"),
    ("http://a.jp/list?page=2&sort=new", "/list?page=2&sort=new"),
])
def test_page_of(url, page):
    assert page_of(url) == page


def test_per_document_apply_changes_nothing():
    step = SiteBoilerplate()
    d = doc("ヘッダー\n本文")
    new, scores = step.apply(d)
    assert new is d and step.decide(scores) is None


def test_min_pages_is_checked_in_the_config():
    assert build_filter("site_boilerplate", {"min_pages": 2}).min_pages == 2
    with pytest.raises(ConfigError, match="min_pages must be between 2 and 1000, got 1"):
        build_filter("site_boilerplate", {"min_pages": 1})
    with pytest.raises(ConfigError, match="min_pages must be between 2 and 1000, got 1001"):
        build_filter("site_boilerplate", {"min_pages": 1001})
    with pytest.raises(ConfigError, match="must be an integer"):
        build_filter("site_boilerplate", {"min_pages": 2.5})
