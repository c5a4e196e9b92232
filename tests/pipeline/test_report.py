import collections

from pipeline.report import assemble_stats, build_funnel, format_funnel, stats_rows

STEPS = [("read", "read"), ("extract", "extract"), ("filter", "length")]


def test_funnel_chains_in_and_kept():
    rows = build_funnel(100, {("read", "read", "not_response"): 30, ("extract", "extract", "no_text"): 5,
                              ("filter", "length", "too_short"): 15}, STEPS)
    assert [(r["in"], r["kept"]) for r in rows] == [(100, 70), (70, 65), (65, 50)]


def test_assemble_stats_accounts_for_everything():
    pairs = [
        (("records",), 70),
        (("reject", "read", "read", "not_response"), 30),
        (("reject", "filter", "length", "too_short"), 15),
        (("reject", "extract", "extract", "no_text"), 5),
        (("documents",), 50),
        (("hist", "n_chars", 3), 50),
        (("pii", "email"), 4),
        (("cluster_rows", "near", 3), 6),
    ]
    stats = assemble_stats(pairs, {"dedup": {"bands": 16}}, STEPS)
    assert stats["records_in"] == 100 and stats["documents_out"] == 50 and stats["rejected"] == 50
    assert stats["accounted"] is True
    assert stats["pii"] == {"email": 4}
    assert stats["histograms"]["n_chars"]["counts"][3] == 50
    assert stats["histograms"]["cluster_size"] == {"3": 2}
    assert stats["dedup"]["clusters"] == 2
    assert "accounted: yes" in format_funnel(stats)
    assert sum(r["count"] for r in stats_rows(stats) if r["reason"] != "kept") == 50


def test_silent_drop_is_detected():
    pairs = [(("records",), 10), (("documents",), 9)]
    assert assemble_stats(pairs, {}, STEPS)["accounted"] is False


def test_unlisted_reject_stage_still_appears():
    pairs = [(("records",), 3), (("documents",), 2), (("reject", "dedup", "exact_dedup", "exact_duplicate"), 1)]
    stats = assemble_stats(pairs, {}, STEPS)
    assert stats["funnel"][-1]["filter"] == "exact_dedup" and stats["accounted"]


def test_lang_score_histogram_is_closed_at_one(tmp_path):
    """A probability of exactly 1.0 (fastText gives it) is counted in [0.95, 1.0],
    not in a bin of its own that the card would draw from 1.0 to 1.05."""
    from pipeline.card import plot_histogram
    from pipeline.report import LANG_SCORE_EDGES, bucket, langid_keys
    from schemas.records import Doc

    keys = [k for score in (1.0, 0.97, 0.95, 0.949, 0.0)
            for k, _ in langid_keys(Doc(id="d", url="", source="s", crawl_date="", text="", lang_score=score))]
    assert [k[2] for k in keys] == [19, 19, 19, 18, 0]
    assert bucket(LANG_SCORE_EDGES, 1.00001, closed=True) == 19  # float noise above 1 stays in range
    combined = collections.Counter(keys)  # assemble_stats takes the combined counts, one pair per key
    stats = assemble_stats([(("records",), 5), (("documents",), 5), *combined.items()], {}, STEPS)
    hist = stats["histograms"]["lang_score"]
    assert len(hist["counts"]) == len(hist["edges"]) - 1 == 20
    assert hist["counts"][19] == 3 and hist["counts"][18] == 1 and sum(hist["counts"]) == 5

    path = str(tmp_path / "lang_score.svg")
    assert plot_histogram(stats, "lang_score", path, "probability", "Language ID")
    svg = open(path, encoding="utf-8").read()
    assert "last bin" not in svg  # closed bins: no open-ended suffix on the axis label
    assert ">1.0<" in svg and ">1.05<" not in svg and ">1.1<" not in svg


def _brute_force_hosts(per_host: dict[str, tuple[int, int]], n: int) -> dict:
    named = sorted(((d, c, h) for h, (d, c) in per_host.items() if h), key=lambda e: (-e[0], -e[1], e[2]))
    none = per_host.get("", (0, 0))
    return {"distinct": len(named), "top": [{"host": h, "documents": d, "chars": c} for d, c, h in named[:n]],
            "without_host": {"documents": none[0], "chars": none[1]}}


def test_top_hosts_is_exact_however_the_hosts_are_split_over_workers():
    """Hosts reach TopHosts in any order and any split over accumulators (workers,
    bundles); many hosts tie on documents, some on characters too. The result is
    the brute-force ranking, and no accumulator ever holds more than 2 n hosts."""
    import random

    from pipeline.report import TopHosts

    rng = random.Random(7)
    for trial in range(30):
        n = rng.choice([1, 3, 10])
        per_host = {f"h{i}.example.jp": (rng.randint(1, 6), rng.choice([10, 20, rng.randint(1, 999)]))
                    for i in range(rng.randint(0, 400))}
        if trial % 3:
            per_host[""] = (rng.randint(1, 50), rng.randint(1, 5000))
        fn = TopHosts(n)
        accs = [fn.create_accumulator() for _ in range(rng.randint(1, 6))]
        items = list(per_host.items())
        rng.shuffle(items)
        for host, value in items:
            k = rng.randrange(len(accs))
            accs[k] = fn.add_input(accs[k], (("host", host), value))
            assert len(accs[k][3]) <= 2 * n
        rng.shuffle(accs)
        while len(accs) > 1:  # merged in a random tree, as a runner's combiner stages may
            i = rng.randrange(len(accs) - 1)
            accs[i:i + 2] = [fn.merge_accumulators(accs[i:i + 2])]
            assert len(accs[i][3]) <= 2 * n
        assert fn.extract_output(accs[0]) == _brute_force_hosts(per_host, n), trial


def test_host_of_documents_and_the_stats_combine(tmp_path):
    """doc_keys' host pairs go through ComputeStats on a real runner: summed per host
    apart from the counters (no ToList of hosts), ranked, and in stats.json;
    a run without documents still has the key."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.testing.test_pipeline import TestPipeline
    from apache_beam.testing.util import assert_that

    from pipeline.report import ComputeStats, doc_keys, host_of
    from schemas.records import Doc
    from tests.conftest import IN_MEMORY

    urls = ["https://a.example.jp/1", "https://A.example.jp:8443/2", "https://u:pw@b.example.jp/x",
            "http://a.example.jp./3", "", "not a url", "https://c.example.jp/"]
    docs = [Doc(id=f"d{i}", url=u, source="s", crawl_date="", text="x" * (i + 1), n_chars=i + 1)
            for i, u in enumerate(urls)]
    assert [host_of(u) for u in urls] == ["a.example.jp", "a.example.jp", "b.example.jp", "a.example.jp",
                                          "", "", "c.example.jp"]
    expected = {"distinct": 3,
                "top": [{"host": "a.example.jp", "documents": 3, "chars": 1 + 2 + 4},
                        {"host": "c.example.jp", "documents": 1, "chars": 7},
                        {"host": "b.example.jp", "documents": 1, "chars": 3}],
                "without_host": {"documents": 2, "chars": 5 + 6}}

    def check(expected_hosts, expected_docs):
        def inner(stats_docs):
            (stats,) = stats_docs
            assert stats["hosts"] == expected_hosts
            assert stats["documents_out"] == expected_docs
        return inner

    p = TestPipeline(options=PipelineOptions(IN_MEMORY))
    stats = (p | beam.Create(docs, reshuffle=False) | beam.FlatMap(doc_keys) | ComputeStats({}, STEPS))
    assert_that(stats, check(expected, len(docs)), label="hosts")
    empty = (p | "None" >> beam.Create([], reshuffle=False) | "Keys" >> beam.FlatMap(doc_keys)
             | "Empty" >> ComputeStats({}, STEPS))
    assert_that(empty, check({"distinct": 0, "top": [], "without_host": {"documents": 0, "chars": 0}}, 0),
                label="empty")
    # More hosts than twice the list: the ranking trims on the way and stays exact.
    many = [Doc(id=f"m{i}", url=f"https://h{i % 23}.example.jp/{i}", source="s", crawl_date="", text="x",
                n_chars=1 + i % 5) for i in range(400)]
    per_host: dict[str, list[int]] = {}
    for d in many:
        per_host.setdefault(host_of(d.url), [0, 0])
        per_host[host_of(d.url)][0] += 1
        per_host[host_of(d.url)][1] += d.n_chars
    ranked = sorted(per_host.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))[:3]
    trimmed = (p | "Many" >> beam.Create(many) | "ManyKeys" >> beam.FlatMap(doc_keys)
               | "Trimmed" >> ComputeStats({}, STEPS, top_hosts=3))
    assert_that(trimmed, check({"distinct": 23, "top": [{"host": h, "documents": n, "chars": c} for h, (n, c) in ranked],
                                "without_host": {"documents": 0, "chars": 0}}, 400), label="trimmed")
    p.run().wait_until_finish()


def test_host_of_never_raises_and_gives_a_host_name_or_nothing():
    """Adversarial URLs (a JSONL ``url`` field is any string): host_of returns a
    name a page can be served from (letters, digits, ``-_.``, a dot, at most 253
    characters), an IPv6 address, or ``""``; the same host spelled differently is
    one; a token in a URL's user part is no host."""
    import ipaddress
    import random
    import unicodedata

    from pipeline.report import host_of

    def valid(h: str) -> bool:
        if ":" in h:
            return str(ipaddress.IPv6Address(h)) == h
        return 0 < len(h) <= 253 and "." in h and all(c in "-_." or unicodedata.category(c)[0] in "LMN" for c in h)

    rng = random.Random(11)
    pieces = ["http://", "https://", "HTTP://", "//", "xn--", "xn--wgv71a119e", ".jp", "。", "．", "ｊｐ", "@", ":",
              "%", "[", "]", "::1", "/", "\\", "?", "#", " ", "\u200b", "\ud800", "\x00", "`", "|", "<b>", "例",
              "ß", "㋿", "a" * 300, "1.2.3.4", "user:pw", "~", "-", "_", "é", "\u0301"]
    for _ in range(5000):
        url = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        h = host_of(url)
        assert h == "" or valid(h), (url, h)
    assert host_of("http://x" + "y" * 10_000_000) == ""  # a 10 MB "URL" is cut, never scanned whole
    same = {host_of(u) for u in ["http://日本語.JP/", "https://xn--wgv71a119e.jp:443/x", "http://日本語。jp./",
                                 "http://user@ＸＮ--ＷＧＶ71Ａ119Ｅ．ＪＰ/"]}
    assert same == {"日本語.jp"}
    assert host_of("http://ghp_0123456789abcdef/x@github.com/") == ""
    assert host_of("https://medium.com/@someone/post") == "medium.com"
