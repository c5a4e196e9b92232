"""RemoveSiteBoilerplate on Beam's local runner: counting across the corpus, the
join back to each document, its counters, and agreement with a plain-Python
reference on a random corpus."""

from __future__ import annotations

import collections
import random
import re

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from filters.boilerplate import SiteBoilerplate, page_of, removable, site_of, units
from pipeline.boilerplate import RemoveSiteBoilerplate
from schemas.records import Doc
from tests.conftest import IN_MEMORY
from tests.pipeline.test_stages import counters


def page(id: str, url: str, text: str) -> Doc:
    return Doc(id=id, url=url, source="s", crawl_date="", text=text, n_chars=len(text),
               scores={"normalize.chars": float(len(text))})


def run(docs: list[Doc], step: SiteBoilerplate, expected: list[tuple[str, str]]) -> dict:
    p = TestPipeline(options=PipelineOptions(IN_MEMORY))
    out = p | beam.Create(docs) | "SB" >> RemoveSiteBoilerplate(step)
    assert_that(out["kept"] | beam.Map(lambda d: (d.id, d.text)), equal_to(expected), label="texts")
    assert_that(out["rejected"], equal_to([]), label="rejects")
    result = p.run()
    result.wait_until_finish()
    return counters(result, "furui.boilerplate")


def test_lines_a_site_repeats_go_and_everything_else_stays():
    table = "| ホーム | 記事一覧 |\n|---|---|"
    docs = []
    expected = []
    # a.example.jp: 10 different articles under one header, menu table and footer.
    for i in range(10):
        body = f"{i}番目の記事の本文です。"
        docs.append(page(f"a{i}", f"https://a.example.jp/{i}", f"ヘッダー\n{table}\n{body}\n© a.example.jp"))
        expected.append((f"a{i}", body))
    # A page of the same site that is nothing but its template stays whole.
    docs.append(page("a-empty", "https://a.example.jp/empty", f"ヘッダー\n{table}"))
    expected.append(("a-empty", f"ヘッダー\n{table}"))
    # b.example.jp: the same header on 9 pages only (min_pages is 10).
    for i in range(9):
        text = f"ヘッダー\nBの記事{i}。"
        docs.append(page(f"b{i}", f"https://b.example.jp/{i}", text))
        expected.append((f"b{i}", text))
    # c.example.jp: one page crawled 12 times (same text) counts once.
    for i in range(12):
        text = "ヘッダー\n同じ本文。"
        docs.append(page(f"c{i}", f"https://c.example.jp/?utm={i}", text))
        expected.append((f"c{i}", text))
    # A line two sites share, 5 pages each: per site it is below min_pages.
    for site in ("d1", "d2"):
        for i in range(5):
            text = f"共通の行\n{site}の記事{i}。"
            docs.append(page(f"{site}-{i}", f"https://{site}.example.jp/{i}", text))
            expected.append((f"{site}-{i}", text))
    # No URL, no site: never counted, never changed.
    docs.append(page("nourl", "", "ヘッダー\n本文。"))
    expected.append(("nourl", "ヘッダー\n本文。"))
    c = run(docs, SiteBoilerplate(), expected)
    assert c["in"] == c["kept"] == len(docs)
    assert c["documents_changed"] == 10
    # Frequent keys: the header, the table and the footer of a.example.jp.
    assert c["boilerplate_keys"] == 3


def test_recrawls_of_one_url_are_one_page():
    """The same article crawled 10 times with a changing view counter: 10 texts,
    one page; its body is not boilerplate (near dedup keeps one copy later)."""
    docs, expected = [], []
    for i in range(10):
        text = f"ヘッダー\n記事の一段落目です。\n記事の二段落目です。\n閲覧数: {1000 + i}"
        docs.append(page(f"r{i}", f"https://news.example.jp/a/1?from=top#c{i}", text))
        expected.append((f"r{i}", text))
    c = run(docs, SiteBoilerplate(), expected)
    assert c.get("boilerplate_keys", 0) == 0 and c.get("documents_changed", 0) == 0 and c["kept"] == 10


def test_a_frequent_line_among_the_pages_own_lines_stays():
    """A greeting that 10 questions of one host share stays where it stands alone
    between the question's own lines, and goes where it closes the page."""
    docs, expected = [], []
    for i in range(10):
        if i % 2:
            text = f"質問{i}の前置きです。\nよろしくお願いします。\n質問{i}の本題です。"
            expected.append((f"q{i}", text))
        else:
            text = f"質問{i}の本題です。\nよろしくお願いします。"
            expected.append((f"q{i}", f"質問{i}の本題です。"))
        docs.append(page(f"q{i}", f"https://qa.example.jp/q/{i}", text))
    run(docs, SiteBoilerplate(), expected)


def test_removing_a_line_never_joins_two_tables():
    docs, expected = [], []
    for i in range(10):
        text = f"本文{i}。\n| 表A | {i} |\n広告の行\n| 表B | {i} |\n広告の行2"
        docs.append(page(f"t{i}", f"https://t.example.jp/{i}", text))
        # "広告の行" sits next to the frequent last line (a run) but separates the tables.
        expected.append((f"t{i}", f"本文{i}。\n| 表A | {i} |\n広告の行\n| 表B | {i} |"))
    run(docs, SiteBoilerplate(), expected)


def test_scores_are_added_to_the_documents():
    docs = [page(f"{i}", f"https://a.example.jp/{i}", f"ヘッダー\n本文{i}。") for i in range(3)]
    p = TestPipeline(options=PipelineOptions(IN_MEMORY))
    out = p | beam.Create(docs) | "SB" >> RemoveSiteBoilerplate(SiteBoilerplate(min_pages=3))
    assert_that(out["kept"] | beam.Map(lambda d: (d.id, d.n_chars, sorted(d.scores.items()))), equal_to([
        (f"{i}", 4, [("normalize.chars", 9.0), ("site_boilerplate.chars_removed", 5.0),
                     ("site_boilerplate.lines_removed", 1.0)]) for i in range(3)]))
    p.run().wait_until_finish()


def test_repeated_ids_get_their_own_lines_removed():
    """Ids are joined on; two documents sharing an id (a user's JSONL) each lose
    only their own site's frequent lines."""
    docs = [page(f"x{i}", f"https://x.example.jp/{i}", f"Xのヘッダー\nX{i}。") for i in range(2)]
    docs += [page(f"y{i}", f"https://y.example.jp/{i}", f"Yのヘッダー\nY{i}。") for i in range(2)]
    docs.append(page("same", "https://x.example.jp/s", "Xのヘッダー\nXの本文。\nYのヘッダー"))
    docs.append(page("same", "https://y.example.jp/s", "Yのヘッダー\nYの本文。\nXのヘッダー"))
    expected = [("x0", "X0。"), ("x1", "X1。"), ("y0", "Y0。"), ("y1", "Y1。"),
                ("same", "Xの本文。\nYのヘッダー"), ("same", "Yの本文。\nXのヘッダー")]
    run(docs, SiteBoilerplate(min_pages=3), expected)


def reference(docs: list[Doc], min_pages: int) -> list[tuple[str, str]]:
    """The step's definition in plain Python, written apart from the code under test:
    frequency by sets of texts and pages, template places by a regex over a flag string."""
    texts, pages = collections.defaultdict(set), collections.defaultdict(set)
    for d in docs:
        for u in set(units(d.text)):
            if removable(u) and site_of(d.url):
                texts[(site_of(d.url), u)].add(d.text)
                pages[(site_of(d.url), u)].add(page_of(d.url))
    out = []
    for d in docs:
        parts = units(d.text)
        idx = [i for i, u in enumerate(parts) if removable(u)]
        key = lambda i: (site_of(d.url), parts[i])  # noqa: E731
        flags = "".join("F" if len(texts[key(i)]) >= min_pages and len(pages[key(i)]) >= min_pages else "o"
                        for i in idx)
        if "o" not in flags:
            out.append((d.id, d.text))
            continue
        drop = {idx[k] for m in re.finditer(r"^F+|F+$|FF+", flags) for k in range(m.start(), m.end())}
        keep = []
        for i, u in enumerate(parts):
            if i in drop:
                continue
            if u.startswith("|") and keep and keep[-1].startswith("|") and i - 1 in drop:
                keep.append(parts[i - 1])
            keep.append(u)
        out.append((d.id, "\n".join(keep)))
    return out


def test_random_corpus_matches_the_reference():
    rng = random.Random(7)
    template = [f"テンプレート行{i}" for i in range(8)] + ["---", "| メニュー |\n|---|", "</div>"]
    docs = []
    for n in range(400):
        site = f"s{rng.randrange(6)}.example.jp"
        lines = rng.sample(template, rng.randrange(0, 5))
        lines += [f"本文{rng.randrange(60)}。" for _ in range(rng.randrange(0, 4))]
        rng.shuffle(lines)
        text = "\n".join(lines) or "本文。"
        # Few paths per site (and query strings that are kept): distinct pages bind too.
        docs.append(page(f"d{n}", f"https://{site}/p{rng.randrange(14)}?v={rng.randrange(2)}#{n}", text))
    docs += docs[:30]  # exact copies (same id, same text): once more each
    expected = reference(docs, 10)
    assert sum(a != b for a, b in zip(expected, ((d.id, d.text) for d in docs))) > 100  # the case is not trivial
    run(docs, SiteBoilerplate(min_pages=10), expected)


class _Failing(SiteBoilerplate):
    """Fails on chosen documents: keying ("nokeys") and rewriting ("boom")."""

    def line_keys(self, doc):
        if doc.id == "nokeys":
            raise RuntimeError("cannot key")
        return super().line_keys(doc)

    def strip(self, doc, frequent):
        if doc.id == "boom":
            raise ValueError("cannot strip")
        return super().strip(doc, frequent)


def test_a_failing_document_is_rejected_alone_and_an_unkeyable_one_passes_unchanged():
    docs = [page(f"a{i}", f"https://a.example.jp/{i}", f"ヘッダー\n本文{i}。") for i in range(10)]
    docs.append(page("boom", "https://a.example.jp/boom", "ヘッダー\n爆発。"))
    docs.append(page("nokeys", "https://a.example.jp/nokeys", "ヘッダー\n数えない。"))
    p = TestPipeline(options=PipelineOptions(IN_MEMORY))
    out = p | beam.Create(docs) | "SB" >> RemoveSiteBoilerplate(_Failing())
    assert_that(out["kept"] | beam.Map(lambda d: (d.id, d.text)),
                equal_to([(f"a{i}", f"本文{i}。") for i in range(10)] + [("nokeys", "ヘッダー\n数えない。")]),
                label="kept")
    assert_that(out["rejected"] | beam.Map(lambda r: (r.id, r.stage, r.filter, r.reason, r.detail)),
                equal_to([("boom", "boilerplate", "site_boilerplate", "error.ValueError",
                           "ValueError: cannot strip")]), label="rejected")
    result = p.run()
    result.wait_until_finish()
    c = counters(result, "furui.boilerplate")
    assert c["in"] == 12 and c["kept"] == 11 and c["error.ValueError"] == 1
