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
