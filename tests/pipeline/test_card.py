"""The dataset card: HF front matter, sections, plots, determinism and scrubbing."""

from __future__ import annotations

import json
import os
import re
import tomllib
import xml.etree.ElementTree as ET

import pytest

from pipeline.card import (
    main_card,
    plot_cluster_sizes,
    plot_funnel,
    plot_histogram,
    size_category,
    strip_userinfo,
    write_card,
    write_plots,
)

SVG = "{http://www.w3.org/2000/svg}"
PLOT_NAMES = ("cluster_size", "funnel", "lang_score", "n_chars")


def _svg(path) -> ET.Element:
    """Parses an SVG plot and checks that it is a standalone document with a size."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    width, height = float(root.get("width")), float(root.get("height"))
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert 300 <= width <= 1000 and height >= 150
    return root


def _rects(root: ET.Element, cls: str) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if r.get("class") == cls]


def _texts(root: ET.Element, cls: str | None = None) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text") if cls is None or t.get("class") == cls]


def _set_stats(out: str, **changes) -> dict:
    path = os.path.join(out, "stats.json")
    with open(path, encoding="utf-8") as f:
        stats = json.load(f)
    stats.update(changes)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(stats, f)
    return stats


def _front_matter(text: str) -> dict:
    yaml = pytest.importorskip("yaml")
    m = re.match(r"^---\n(.*?)\n---\n", text, re.DOTALL)
    assert m, "the card must start with YAML front matter"
    return yaml.safe_load(m.group(1))


def _toml_block(text: str) -> str:
    m = re.search(r"```toml\n(.*?)\n```", text, re.DOTALL)
    assert m
    return m.group(1)


def test_front_matter_is_hugging_face_metadata(synthetic_output):
    text = open(write_card(synthetic_output), encoding="utf-8").read()

    meta = _front_matter(text)
    assert meta["language"] == ["ja"]
    assert meta["license"] == "cc-by-4.0"
    assert meta["pretty_name"] == "furui-ja-test"
    assert meta["size_categories"] == ["n<1K"]
    assert meta["task_categories"] == ["text-generation"]
    assert meta["configs"] == [
        {"config_name": "default", "data_files": [{"split": "train", "path": "documents/*.parquet"}]}
    ]
    hub = pytest.importorskip("huggingface_hub")
    card = hub.DatasetCard(text)  # the Hub's own parser and metadata model
    assert card.data.license == "cc-by-4.0"
    assert card.data.size_categories == ["n<1K"]


def test_card_reports_sources_version_config_funnel_thresholds_dedup_and_pii(synthetic_output, config_text):
    with open(os.path.join(synthetic_output, "stats.json"), encoding="utf-8") as f:
        stats = json.load(f)

    text = open(write_card(synthetic_output), encoding="utf-8").read()

    assert "- `crawl/sample-00000.warc.gz`" in text
    assert "| furui version | `0.1.0` |" in text
    assert f"| Config SHA-256 | `{stats['config_sha256']}` |" in text
    assert _toml_block(text) == config_text.rstrip("\n")  # verbatim when nothing needs redacting
    assert "| filter | length | 90 | 78 | 12 | 86.7% | 43.3% |" in text
    assert "| read | read | `not_response` | 50 | 27.8% | 27.8% |" in text
    assert "| dedup | near_dedup | `near_duplicate` | 6 | 13.0% | 3.3% |" in text
    assert "| length | filter | `min_chars = 200`, `max_chars = 500000` |" in text
    assert "| bands | `16` |" in text and "| rows | `8` |" in text and "| threshold | `0.707` |" in text
    assert "| email | 3 |" in text and "| phone | 5 |" in text
    assert "## Known limitations" in text
    assert "| Documents | 40 |" in text and "| Document shards | 3 (" in text
    # "Kept of all input" counts records that are not pages; the yield of pages is said too.
    assert "Of the 180 records read, 120 were pages that reached text extraction" in text
    assert "33.3% of those pages are in the documents." in text
    assert "Funnel counts are computed from the data in the pipeline (exact under retries)" in text


def test_plots_are_written_linked_and_deterministic(synthetic_output):
    readme = write_card(synthetic_output)
    text = open(readme, encoding="utf-8").read()
    links = re.findall(r"!\[[^\]]*\]\((plots/[^)]+)\)", text)
    assert sorted(links) == [f"plots/{name}.svg" for name in PLOT_NAMES]
    first = {}
    for link in links:
        with open(os.path.join(synthetic_output, link), "rb") as f:
            first[link] = f.read()
        _svg(os.path.join(synthetic_output, link))
        assert b"<svg xmlns=\"http://www.w3.org/2000/svg\"" in first[link]
    assert sorted(os.listdir(os.path.join(synthetic_output, "plots"))) == [f"{name}.svg" for name in PLOT_NAMES]

    write_card(synthetic_output)

    assert open(readme, encoding="utf-8").read() == text
    for link, data in first.items():
        with open(os.path.join(synthetic_output, link), "rb") as f:
            assert f.read() == data, f"{link} is not byte-identical across runs"


def test_funnel_plot_has_one_proportional_bar_per_step(synthetic_output):
    with open(os.path.join(synthetic_output, "stats.json"), encoding="utf-8") as f:
        stats = json.load(f)
    path = os.path.join(synthetic_output, "funnel.svg")

    assert plot_funnel(stats, path)

    root = _svg(path)
    funnel = stats["funnel"]
    kept_counts = [stats["funnel"][0]["in"]] + [step["kept"] for step in funnel]
    kept = _rects(root, "kept")
    assert len(kept) == len(funnel) + 1  # input + one row per step
    widths = [float(r.get("width")) for r in kept]
    for width, count in zip(widths[1:], kept_counts[1:]):
        # Widths are proportional to the counts (input = 180 is the reference).
        assert width / widths[0] == pytest.approx(count / kept_counts[0], rel=0.01)
    assert [int(r.get("data-count")) for r in kept] == kept_counts
    dropped = _rects(root, "dropped")
    assert [int(r.get("data-count")) for r in dropped] == [sum(s["dropped"].values()) for s in funnel if s["dropped"]]
    read = kept[1]
    read_dropped = dropped[0]  # stacked right after the kept part of the same row
    assert float(read_dropped.get("x")) == pytest.approx(float(read.get("x")) + float(read.get("width")), abs=0.02)
    assert float(read_dropped.get("width")) / widths[0] == pytest.approx(60 / 180, rel=0.01)
    assert read.get("fill") == "#3b6ea5" and read_dropped.get("fill") == "#e0a458"
    assert _texts(root, "label") == ["input", "read", "extract", "normalize", "langid", "filter/length",
                                     "filter/hiragana_ratio", "pii", "dedup/exact_dedup", "dedup/near_dedup"]
    assert _texts(root, "count") == [f"{n:,}" for n in kept_counts]
    assert "Funnel: documents kept after each step" in _texts(root, "title")
    assert {"kept", "dropped", "documents"} <= set(_texts(root))
    ticks = _texts(root, "xtick")
    assert len(ticks) >= 3 and ticks[0] == "0" and all(t.replace(",", "").isdigit() for t in ticks)
    # Height grows with the number of rows.
    assert plot_funnel(dict(stats, funnel=funnel[:2]), path)
    assert float(_svg(path).get("height")) < float(root.get("height"))


def test_plot_text_is_escaped(synthetic_output):
    with open(os.path.join(synthetic_output, "stats.json"), encoding="utf-8") as f:
        stats = json.load(f)
    nasty = 'a<b & "c" \'d\' </text><script>'
    stats["funnel"][4]["filter"] = nasty
    stats["histograms"]["cluster_size_by_kind"] = {"near & <far>": {"2": 3}}
    path = os.path.join(synthetic_output, "funnel.svg")

    assert plot_funnel(stats, path)
    assert plot_cluster_sizes(stats, os.path.join(synthetic_output, "clusters.svg"))

    raw = open(path, encoding="utf-8").read()
    assert "<script>" not in raw and "a&lt;b &amp; &quot;c&quot;" in raw
    assert f"filter/{nasty}" in _texts(_svg(path), "label")  # parses back to the original text
    assert "near & <far>" in _texts(_svg(os.path.join(synthetic_output, "clusters.svg")))


def test_histogram_plot_has_one_bar_per_non_empty_bin(tmp_path):
    stats = {"histograms": {
        "n_chars": {"edges": [0, 100, 200, 400, 800, 102400], "counts": [0, 3, 20, 0, 2, 1]},
        "lang_score": {"edges": [0.5, 0.6, 0.7, 0.8, 0.9, 1.0], "counts": [1, 0, 4, 10, 25]},
    }}
    path = str(tmp_path / "n_chars.svg")

    assert plot_histogram(stats, "n_chars", path, "characters per document", "Document length")

    root = _svg(path)
    bars = _rects(root, "bar")
    assert [int(b.get("data-count")) for b in bars] == [3, 20, 2, 1]
    heights = [float(b.get("height")) for b in bars]
    assert heights[1] / heights[0] == pytest.approx(20 / 3, rel=0.01)
    texts = _texts(root)
    assert "Document length" in texts and "documents" in texts
    assert "characters per document (last bin: >= 102400)" in texts  # open last bin
    # Geometric bins: log x axis, so the doubling bins are equally wide.
    xs = [float(b.get("width")) for b in bars[:2]]
    assert xs[0] == pytest.approx(xs[1], rel=0.01)
    assert {"1,000", "10,000"} <= set(_texts(root, "xtick"))
    assert len(_texts(root, "ytick")) >= 3

    # The card's language-ID plot: every page that reached language ID, kept or
    # rejected, by the probability of the language detected (not a "ja score").
    made = write_plots(str(tmp_path / "card"), stats)
    root = _svg(str(tmp_path / "card" / made["lang_score"]))
    assert [int(b.get("data-count")) for b in _rects(root, "bar")] == [1, 4, 10, 25]
    texts = _texts(root)
    assert "probability of the detected language (fastText)" in texts  # closed bins: no suffix
    assert "pages" in texts and "documents" not in texts
    assert _texts(root, "xtick") == ["0.5", "0.6", "0.7", "0.8", "0.9", "1.0"]  # linear axis


def test_cluster_size_plot_groups_kinds_and_uses_log_axis_for_wide_ranges(tmp_path):
    path = str(tmp_path / "cluster_size.svg")
    stats = {"histograms": {"cluster_size_by_kind": {"near": {"2": 500, "3": 40, "9": 1}, "exact": {"2": 7}}}}

    assert plot_cluster_sizes(stats, path)

    root = _svg(path)
    bars = _rects(root, "bar")
    assert [(b.get("data-kind"), int(b.get("data-count"))) for b in bars] == [
        ("exact", 7), ("near", 500), ("near", 40), ("near", 1)]
    assert _texts(root, "xtick") == ["2", "3", "9"]
    assert {"1", "10", "100"} <= set(_texts(root, "ytick"))  # counts span >= 100x: log axis
    assert {"exact", "near", "Duplicate cluster sizes", "documents in cluster", "clusters"} <= set(_texts(root))
    assert not plot_cluster_sizes({"histograms": {"cluster_size": {"2": 0}}}, path)


def test_stale_plots_are_removed(synthetic_output):
    plots = os.path.join(synthetic_output, "plots")
    os.makedirs(plots)
    for name in PLOT_NAMES:  # left by an earlier furui that drew PNGs
        with open(os.path.join(plots, f"{name}.png"), "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n")
    write_card(synthetic_output)
    assert sorted(os.listdir(plots)) == [f"{name}.svg" for name in PLOT_NAMES]

    _set_stats(synthetic_output, histograms={})  # nothing to draw but the funnel any more
    text = open(write_card(synthetic_output), encoding="utf-8").read()

    assert os.listdir(plots) == ["funnel.svg"]
    assert "plots/n_chars.svg" not in text and "plots/funnel.svg" in text


def test_secret_looking_config_values_are_redacted(make_output, config_text):
    secrets = ["hunter2-pw", "tok-123456789", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG", "sso-cred-999",
               "userpass-42"]
    risky = config_text + (
        "\n[extra]\n"
        f'password = "{secrets[0]}"\n'
        f'api_token = "{secrets[1]}"\n'
        f'accessKeyId = "{secrets[2]}"\n'
        f'aws_secret_access_key = "{secrets[3]}"\n'
        f'credentials = {{ sso = "{secrets[4]}" }}\n'
        f'endpoint = "https://admin:{secrets[5]}@minio.internal:9000"\n'
        'session_token = ""\n'
        "min_tokens = 3\n"
    )
    out = make_output(config_text=risky)

    text = open(write_card(out), encoding="utf-8").read()

    for secret in secrets:
        assert secret not in text
    rendered = tomllib.loads(_toml_block(text))
    extra = rendered["extra"]
    assert extra["password"] == extra["api_token"] == extra["accessKeyId"] == "<redacted>"
    assert extra["aws_secret_access_key"] == extra["credentials"] == "<redacted>"
    assert extra["endpoint"] == "https://minio.internal:9000"
    assert extra["session_token"] == ""  # empty values reveal nothing and stay visible
    assert extra["min_tokens"] == 3  # "tokens" is not "token"
    assert [f["name"] for f in rendered["filters"]] == ["normalize", "langid", "length", "hiragana_ratio", "pii"]
    assert "6 secret-looking value(s) redacted" in text


def test_credentials_in_input_urls_are_stripped(make_output):
    inputs = [
        "s3://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxR@crawl-bucket/cc/part-0.warc.gz",
        "https://alice:s3cr3t-pass@data.example.org/dump/part-1.warc.gz",
        "https://data.example.org/part-2.warc.gz?X-Amz-Credential=AKIAX%2F2024&X-Amz-Signature=deadbeefcafe",
        "/local/crawl/a@b.warc.gz",
    ]
    out = make_output(inputs=inputs)

    text = open(write_card(out), encoding="utf-8").read()

    for leaked in ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI", "alice", "s3cr3t-pass", "deadbeefcafe", "AKIAX"):
        assert leaked not in text
    assert "- `s3://crawl-bucket/cc/part-0.warc.gz`" in text
    assert "- `https://data.example.org/dump/part-1.warc.gz`" in text
    assert "- `https://data.example.org/part-2.warc.gz?<redacted>`" in text
    assert "- `/local/crawl/a@b.warc.gz`" in text


def test_strip_userinfo_keeps_plain_paths():
    assert strip_userinfo("gs://bucket/x.warc.gz") == "gs://bucket/x.warc.gz"
    assert strip_userinfo("https://host/path?page=2") == "https://host/path?page=2"
    assert strip_userinfo("s3://key:se/cret@bucket") == "s3://bucket"


def test_long_input_lists_are_truncated(make_output):
    out = make_output(inputs=[f"s3://bucket/crawl/part-{i:05d}.warc.gz" for i in range(1000)])

    text = open(write_card(out), encoding="utf-8").read()

    assert "1,000 input path(s) or pattern(s) as given" in text
    assert "part-00019.warc.gz" in text and "part-00020.warc.gz" not in text
    assert "... and 980 more" in text


@pytest.mark.parametrize(
    "n, bucket",
    [(0, "n<1K"), (999, "n<1K"), (1000, "1K<n<10K"), (99_999, "10K<n<100K"), (3_000_000, "1M<n<10M"),
     (25_000_000_000, "10B<n<100B"), (2 * 10**12, "n>1T")],
)
def test_size_category_uses_hugging_face_buckets(n, bucket):
    assert size_category(n) == bucket


def test_missing_stats_keys_and_config_are_tolerated(tmp_path):
    out = tmp_path / "sparse"
    out.mkdir()
    (out / "stats.json").write_text(json.dumps({"documents_out": 12345, "funnel": [{"stage": "read"}]}))

    text = open(write_card(str(out)), encoding="utf-8").read()

    meta = _front_matter(text)
    assert meta["license"] == "other" and meta["size_categories"] == ["10K<n<100K"]
    assert "The input paths were not recorded." in text
    assert "No PII counts were recorded" in text
    assert os.path.exists(out / "plots" / "funnel.svg")
    assert not os.path.exists(out / "plots" / "n_chars.svg")  # no histogram, no plot
    assert "plots/n_chars.svg" not in text


def test_main_card_cli(synthetic_output, tmp_path, capsys):
    assert main_card([synthetic_output, "--no-plots"]) == 0
    assert capsys.readouterr().out.strip() == os.path.join(synthetic_output, "README.md")

    assert main_card([str(tmp_path / "missing")]) == 2  # a wrong argument, as for a directory that is not a run
    assert "furui card: error: output directory not found" in capsys.readouterr().err

    # A directory that is not a run's output keeps its own README.md.
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "README.md").write_text("# my notes\n")
    assert main_card([str(tmp_path / "proj")]) == 2
    assert "not the output of `furui run`" in capsys.readouterr().err
    assert (tmp_path / "proj" / "README.md").read_text() == "# my notes\n"


def test_card_says_when_pii_was_not_redacted(make_output, config_text):
    # The synthetic config has a pii step; without it the card must not claim redaction.
    assert 'name = "pii"' in config_text
    with_pii = open(write_card(make_output("a", config_text=config_text)), encoding="utf-8").read()
    assert "the original values are not stored" in with_pii
    start = config_text.index('name = "pii"')
    block_start = config_text.rfind("[[filters]]", 0, start)
    no_pii = config_text[:block_start] + config_text[config_text.index("[dedup]", start):]
    card = open(write_card(make_output("b", config_text=no_pii)), encoding="utf-8").read()
    section = card.split("## Personal information", 1)[1].split("\n## ", 1)[0]
    assert "is not redacted" in section and "the original values are not stored" not in section


def test_pipeline_histogram_variants_are_plotted(synthetic_output):
    # The pipeline writes left edges only (last bin open-ended, first edge 0) and
    # cluster sizes keyed "<kind>:<size>" plus a per-kind breakdown.
    path = os.path.join(synthetic_output, "stats.json")
    with open(path, encoding="utf-8") as f:
        stats = json.load(f)
    stats["histograms"] = {
        "n_chars": {"edges": [0, 100, 200, 400, 800, 102400], "counts": [0, 3, 20, 15, 2, 0]},
        "lang_score": {"edges": [0.0, 0.5, 0.9, 0.95], "counts": [1, 4, 10, 25]},
        "cluster_size": {"exact:2": 1, "near:2": 3, "near:7": 1},
        "cluster_size_by_kind": {"exact": {"2": 1}, "near": {"2": 3, "7": 1}},
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(stats, f)

    text = open(write_card(synthetic_output), encoding="utf-8").read()

    for name in ("funnel", "n_chars", "lang_score", "cluster_size"):
        assert f"(plots/{name}.svg)" in text
        assert _rects(_svg(os.path.join(synthetic_output, "plots", f"{name}.svg")), "kept" if name == "funnel" else "bar")
    n_chars = _svg(os.path.join(synthetic_output, "plots", "n_chars.svg"))
    assert [int(b.get("data-count")) for b in _rects(n_chars, "bar")] == [3, 20, 15, 2]  # empty bins: no bar
    assert "characters per document (last bin: >= 102400)" in _texts(n_chars)
    cluster = _svg(os.path.join(synthetic_output, "plots", "cluster_size.svg"))
    assert [(b.get("data-kind"), b.get("data-count")) for b in _rects(cluster, "bar")] == [
        ("exact", "1"), ("near", "3"), ("near", "1")]


@pytest.mark.parametrize(
    "exact,near,says",
    [
        (True, True, "Exact duplicates are removed first; near-duplicates are found"),
        (True, False, "near-duplicate removal was off (`near = false`)"),
        (False, True, "Exact-duplicate removal was off (`exact = false`). Near-duplicates are found"),
        (False, False, "Deduplication was off (`exact = false`, `near = false`)"),
    ],
)
def test_dedup_section_says_which_passes_ran(make_output, config_text, exact, near, says):
    text = config_text.replace("[dedup]\n", f"[dedup]\nexact = {str(exact).lower()}\nnear = {str(near).lower()}\n")
    out = make_output(config_text=text)
    card = open(write_card(out), encoding="utf-8").read()
    section = card.split("## Deduplication", 1)[1].split("\n## ", 1)[0]
    assert says in section
    if not (exact and near):
        assert "Exact duplicates are removed first" not in section


def test_credentials_in_a_url_inside_prose_are_stripped(make_output, config_text):
    """A URL with user:password is scrubbed wherever it sits in a string, not only
    when the string is the URL (a description that mentions a mirror)."""
    risky = config_text.replace(
        'description = "Synthetic furui output used by the tests."',
        'description = "Mirror: https://alice:hunter2@data.example.com/crawl (daily)"')
    assert risky != config_text
    out = make_output(config_text=risky)

    text = open(write_card(out), encoding="utf-8").read()

    assert "hunter2" not in text and "alice" not in text
    assert "Mirror: https://data.example.com/crawl (daily)" in text
    assert strip_userinfo("see s3://AKIAIOSFODNN7EXAMPLE:wJal/rX+U@bucket/x and https://h/?X-Amz-Signature=ab") == (
        "see s3://bucket/x and https://h/?<redacted>")


def test_card_follows_the_config_and_the_run(make_output):
    """What a review found: fixed limitation text, a PII step that ran and found
    nothing reported as possibly disabled, near-dedup parameters shown when near
    dedup was off, repeated ids not mentioned, URLs said to hold no PII."""
    import tomllib

    from pipeline.config import default_config_text

    text = default_config_text().replace("max_chars = 4000", "max_chars = 0", 1).replace(
        "near = true", "near = false", 1)
    assert tomllib.loads(text)["dedup"]["near"] is False
    out = make_output(config_text=text)
    stats_path = os.path.join(out, "stats.json")
    stats = json.load(open(stats_path, encoding="utf-8"))
    stats["pii"] = {}
    stats["duplicate_ids"] = 2
    json.dump(stats, open(stats_path, "w", encoding="utf-8"))
    card = open(write_card(out), encoding="utf-8").read()
    assert "on the whole text of each document" in card
    assert "Near-duplicate removal is MinHash-LSH" not in card
    assert "| bands |" not in card and "| exact |" in card
    assert "The PII step ran and redacted nothing" in card and "may be disabled" not in card
    assert "| Repeated document ids | 2 " in card
    assert "URLs (the `url` columns of documents and rejects) are kept as crawled" in card


def test_card_without_plots_removes_an_earlier_cards_plots(synthetic_output):
    write_card(synthetic_output)
    plots = os.path.join(synthetic_output, "plots")
    assert os.listdir(plots)
    assert main_card([synthetic_output, "--no-plots"]) == 0
    assert not [f for f in os.listdir(plots) if f.endswith(".svg")]
    assert "plots/" not in open(os.path.join(synthetic_output, "README.md"), encoding="utf-8").read()


def test_hosts_are_listed_as_code_and_capped(make_output):
    """A URL's host may hold Markdown or HTML (``http://<img src=x>/``): the card shows
    hosts as code spans, lists 20 of them, and says what has no host."""
    out = make_output("hosts")
    top = [{"host": f"site{i:02d}.example.jp", "documents": 100 - i, "chars": 1000} for i in range(30)]
    top[3]["host"] = "<img src=x onerror=alert(1)>`|*"
    _set_stats(out, documents_out=5000, hosts={"distinct": 250, "top": top,
                                               "without_host": {"documents": 7, "chars": 70}})
    text = open(write_card(out), encoding="utf-8").read()
    assert "| Hosts | 250 |" in text
    assert "The documents kept come from 250 hosts; the 20 with the most documents" in text
    assert "| `site00.example.jp` | 100 | 2.0% | 1,000 |" in text
    assert "| `<img src=x onerror=alert(1)>%60\\|*` | 97 | 1.9% | 1,000 |" in text
    assert "site19.example.jp" in text and "site20.example.jp" not in text
    assert "7 document(s) have no URL with a host" in text


def test_card_without_hosts_has_no_hosts_section(make_output):
    out = make_output("nohosts")
    stats = json.load(open(os.path.join(out, "stats.json"), encoding="utf-8"))
    stats.pop("hosts", None)
    with open(os.path.join(out, "stats.json"), "w", encoding="utf-8") as f:
        json.dump(stats, f)
    text = open(write_card(out), encoding="utf-8").read()
    assert "## Hosts" not in text and "| Hosts |" not in text


def test_documents_without_a_host_are_said_even_when_no_document_has_one(make_output):
    out = make_output("hostless")
    _set_stats(out, hosts={"distinct": 0, "top": [], "without_host": {"documents": 40, "chars": 900}})
    text = open(write_card(out), encoding="utf-8").read()
    assert "## Hosts" in text and "| Hosts | 0 |" in text
    assert "40 document(s) have no URL with a host name" in text and "| Host | Documents" not in text
