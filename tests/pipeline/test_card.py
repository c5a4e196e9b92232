"""The dataset card: HF front matter, sections, plots, determinism and scrubbing."""

from __future__ import annotations

import json
import os
import re
import tomllib

import pytest

from pipeline.card import main_card, size_category, strip_userinfo, write_card

pytest.importorskip("matplotlib")


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


def test_plots_are_written_linked_and_deterministic(synthetic_output):
    readme = write_card(synthetic_output)
    text = open(readme, encoding="utf-8").read()
    links = re.findall(r"!\[[^\]]*\]\((plots/[^)]+\.png)\)", text)
    assert sorted(links) == ["plots/cluster_size.png", "plots/funnel.png", "plots/lang_score.png", "plots/n_chars.png"]
    first = {}
    for link in links:
        with open(os.path.join(synthetic_output, link), "rb") as f:
            first[link] = f.read()
        assert first[link].startswith(b"\x89PNG\r\n\x1a\n")
        assert b"matplotlib" not in first[link]  # no Software/version chunk

    write_card(synthetic_output)

    assert open(readme, encoding="utf-8").read() == text
    for link, data in first.items():
        with open(os.path.join(synthetic_output, link), "rb") as f:
            assert f.read() == data, f"{link} is not byte-identical across runs"


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

    assert "1,000 input file(s)" in text
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
    assert os.path.exists(out / "plots" / "funnel.png")
    assert not os.path.exists(out / "plots" / "n_chars.png")  # no histogram, no plot
    assert "plots/n_chars.png" not in text


def test_main_card_cli(synthetic_output, tmp_path, capsys):
    assert main_card([synthetic_output, "--no-plots"]) == 0
    assert capsys.readouterr().out.strip() == os.path.join(synthetic_output, "README.md")

    assert main_card([str(tmp_path / "missing")]) == 1
    assert "furui card: error: output directory not found" in capsys.readouterr().err


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
        assert f"(plots/{name}.png)" in text
        assert os.path.getsize(os.path.join(synthetic_output, "plots", f"{name}.png")) > 1000
