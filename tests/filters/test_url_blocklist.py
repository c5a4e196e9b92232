"""Tests of the URL blocklist: domains, suffixes, regexes and UT1 category folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from filters.base import build_filter
from filters.url_blocklist import UrlBlocklistFilter, url_host
from schemas.records import Doc


def doc(url: str) -> Doc:
    return Doc(id="t", url=url, source="", crawl_date="", text="本文")


def decide(f: UrlBlocklistFilter, url: str) -> str | None:
    return f.decide(f.score(doc(url)))


@pytest.fixture
def ut1(tmp_path: Path) -> Path:
    """A tiny UT1-style blacklist: one folder per category with domains/urls files."""
    (tmp_path / "adult").mkdir()
    (tmp_path / "adult" / "domains").write_text("adult.example\nxx.example.net\n", encoding="utf-8")
    (tmp_path / "adult" / "urls").write_text("blog.example.org/adult\n", encoding="utf-8")
    (tmp_path / "gambling").mkdir()
    (tmp_path / "gambling" / "domains").write_text("casino.example\n", encoding="utf-8")
    return tmp_path


def test_url_host() -> None:
    assert url_host("https://WWW.News.Example.jp:443/a") == "news.example.jp"
    assert url_host("") == ""


def test_default_list_blocks_only_reserved_examples() -> None:
    f = UrlBlocklistFilter()
    assert decide(f, "http://a.blocked.invalid/") == "blocked_domain"
    assert decide(f, "http://news.livedoor.com/article/detail/1/") is None
    assert decide(f, "") is None


def test_exact_domain_vs_suffix(tmp_path: Path) -> None:
    exact = tmp_path / "exact.txt"
    exact.write_text("# exact\nbad.example.com\n", encoding="utf-8")
    suffix = tmp_path / "suffix.txt"
    suffix.write_text("spam.example\n", encoding="utf-8")
    f = UrlBlocklistFilter(domain_files=(str(exact),), suffix_files=(str(suffix),))
    assert decide(f, "https://bad.example.com/x") == "blocked_domain"
    assert decide(f, "https://www.bad.example.com/x") == "blocked_domain"  # www. ignored
    assert decide(f, "https://sub.bad.example.com/x") is None  # exact only
    assert decide(f, "https://a.b.spam.example/") == "blocked_domain"
    assert decide(f, "https://notspam.example/") is None  # label boundary


def test_entries_in_other_list_formats(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # URLs, hosts-file lines, wildcards, leading dots and Unicode domains name hosts
    # too; before, they were kept literally and never matched.
    lst = tmp_path / "mixed.txt"
    lst.write_text(
        "https://scheme.example/\n0.0.0.0 hosts.example\n*.wild.example\n.dot.example\n例え.jp\n"
        "192.0.2.7\nnot a domain\n",
        encoding="utf-8",
    )
    with caplog.at_level("WARNING"):
        f = UrlBlocklistFilter(suffix_files=(str(lst),))
        for url in ("https://scheme.example/a", "http://hosts.example/", "http://a.wild.example/",
                    "http://x.dot.example/", "http://例え.jp/page", "http://xn--r8jz45g.jp/",
                    "http://192.0.2.7/x"):
            assert decide(f, url) == "blocked_domain", url
    assert decide(f, "http://example.jp/") is None
    assert "1 line(s) name no domain" in caplog.text and "not a domain" in caplog.text
    # In an exact list a wildcard still means the subdomains; IPv6 literals keep their form.
    exact = tmp_path / "exact.txt"
    exact.write_text("*.wild.example\n2001:db8::1\nplain.example\n", encoding="utf-8")
    f = UrlBlocklistFilter(domain_files=(str(exact),))
    assert decide(f, "http://a.wild.example/") == "blocked_domain"
    assert decide(f, "http://[2001:0db8::1]/x") == "blocked_domain"
    assert decide(f, "http://2001/") is None
    assert decide(f, "http://sub.plain.example/") is None


def test_regex_patterns(tmp_path: Path) -> None:
    rx = tmp_path / "rx.txt"
    rx.write_text(r"/(?:casino|slot)[-_/]" + "\n", encoding="utf-8")
    f = UrlBlocklistFilter(regex_files=(str(rx),))
    assert decide(f, "https://blog.example.jp/casino-bonus/1") == "blocked_url"
    assert decide(f, "https://blog.example.jp/news/1") is None


def test_ut1_categories(ut1: Path) -> None:
    f = build_filter("url_blocklist", {"ut1_dir": str(ut1), "categories": ["adult"]})
    assert decide(f, "https://video.adult.example/") == "blocked_domain"
    assert decide(f, "http://xx.example.net/") == "blocked_domain"
    assert decide(f, "https://blog.example.org/adult/page1") == "blocked_url"
    assert decide(f, "https://blog.example.org/adultery-in-fiction") is None  # path-segment prefix
    assert decide(f, "https://blog.example.org/news") is None
    # Category not selected: gambling domain passes.
    assert decide(f, "https://casino.example/") is None
    g = UrlBlocklistFilter(ut1_dir=str(ut1), categories=("adult", "gambling"))
    assert decide(g, "https://casino.example/") == "blocked_domain"


def test_config_errors(ut1: Path) -> None:
    with pytest.raises(ValueError):
        UrlBlocklistFilter(categories=("adult",))
    with pytest.raises(FileNotFoundError):
        UrlBlocklistFilter(ut1_dir=str(ut1), categories=("missing",)).load()


def test_scores_are_deterministic(ut1: Path) -> None:
    f = UrlBlocklistFilter(ut1_dir=str(ut1), categories=("adult",))
    url = "https://blog.example.org/adult/x"
    assert f.score(doc(url)) == f.score(doc(url)) == {"blocked_domain": 0.0, "blocked_url": 1.0}
