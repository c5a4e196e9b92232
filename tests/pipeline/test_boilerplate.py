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
    # c.example.jp: one text under 12 URLs counts once.
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


def test_frequent_lines_inside_the_page_stay_even_in_runs():
    """Code lines that many pages of a programming site share (imports, a closing
    brace) are the page's own text where they stand inside it."""
    docs, expected = [], []
    for i in range(10):
        text = (f"サイト名\n手順{i}を説明します。\nimport numpy as np\nimport pandas as pd\n"
                f"if (x) {{\n    return 0;\n}}\n結果{i}です。\nCopyright サイト")
        docs.append(page(f"c{i}", f"https://code.example.jp/{i}", text))
        expected.append((f"c{i}", text.removeprefix("サイト名\n").removesuffix("\nCopyright サイト")))
    run(docs, SiteBoilerplate(), expected)


def test_recrawls_with_tracking_parameters_are_one_page():
    """The first review's case: 10 recrawls of one URL with a changing view counter,
    and 9 copies under a tracking parameter, make one page, not ten."""
    docs, expected = [], []
    for i in range(19):
        url = "https://news.example.jp/a" + ("?utm_source=j&fbclid=x" if i >= 10 else "")
        text = f"記事の一段落目です。\n記事の二段落目です。\n閲覧数 {i if i < 10 else 3}"
        docs.append(page(f"r{i}", url, text))
        expected.append((f"r{i}", text))
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
    a line is frequent on min_pages pages (URLs) whose smallest texts differ; the
    template's places are found by regexes over a flag string."""
    texts = collections.defaultdict(dict)  # (site, unit) -> page -> smallest text
    for d in docs:
        for u in set(units(d.text)):
            if removable(u) and site_of(d.url):
                seen = texts[(site_of(d.url), u)]
                page = page_of(d.url)
                seen[page] = min(seen.get(page, d.text), d.text)
    out = []
    for d in docs:
        parts = units(d.text)
        flags = "".join("n" if not removable(u) else
                        "F" if len(set(texts[(site_of(d.url), u)].values())) >= min_pages else "o" for u in parts)
        if "o" not in flags:
            out.append((d.id, d.text))
            continue
        head, tail = re.match(r"[Fn]*", flags).group(), re.search(r"[Fn]*$", flags).group()
        start = len(head) if "F" in head else 0
        end = len(parts) - len(tail) if "F" in tail else len(parts)
        out.append((d.id, "\n".join(parts[start:end])))
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


def test_one_id_on_every_document_is_joined_per_text():
    """A user's JSONL id field that is a constant: the documents meet their frequent
    lines on (id, text digest), so they are not one join group (which one worker
    held), and each still loses exactly its own site's frequent lines."""
    from pipeline.boilerplate import join_key

    rng = random.Random(11)
    template = [f"テンプレート行{i}" for i in range(6)]
    docs = []
    for n in range(200):
        lines = rng.sample(template, rng.randrange(0, 4)) + [f"本文{n}。"]
        rng.shuffle(lines)
        docs.append(page("corpus", f"https://s{n % 3}.example.jp/p{n}", "\n".join(lines)))
    assert len({join_key(d) for d in docs}) == 200
    expected = reference(docs, 10)
    assert sum(a != (d.id, d.text) for a, d in zip(expected, docs)) > 50
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


def test_page_counting_does_not_depend_on_how_inputs_are_split_or_merged():
    """The combiner's bottom-k sample of pages (4 x min_pages of them) and each
    page's smallest text are the same whatever the bundles; so is the answer."""
    from pipeline.boilerplate import _DistinctPages

    rng = random.Random(3)
    fn = _DistinctPages(3)
    for _ in range(300):
        inputs = [(bytes([rng.randrange(6)]), bytes([rng.randrange(40)])) for _ in range(rng.randrange(1, 60))]
        pages: dict[bytes, bytes] = {}
        for text, page in inputs:
            pages[page] = min(pages.get(page, text), text)
        sample = {p: pages[p] for p in sorted(pages)[:12]}
        results = set()
        for _ in range(4):
            shuffled = inputs[:]
            rng.shuffle(shuffled)
            cuts = sorted(rng.sample(range(len(shuffled) + 1), min(3, len(shuffled) + 1)))
            parts = [shuffled[a:b] for a, b in zip([0] + cuts, cuts + [len(shuffled)])]
            accs = []
            for part in parts:
                acc = fn.create_accumulator()
                for x in part:
                    acc = fn.add_input(acc, x)
                accs.append(acc)
            rng.shuffle(accs)
            merged = fn.merge_accumulators(accs)
            assert merged == sample
            results.add(fn.extract_output(merged))
        assert results == {len(set(sample.values())) >= 3}
