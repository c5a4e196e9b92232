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
