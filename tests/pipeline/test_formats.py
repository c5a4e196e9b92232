"""The shards load in the tools users reach for: Hugging Face ``datasets`` and DuckDB."""

from __future__ import annotations

import glob
import json
import os

import pyarrow as pa
import pytest

from schemas import clusters as clusters_schema
from schemas import documents as documents_schema
from schemas import rejects as rejects_schema

# datasets (5.x) has no feature type for Arrow maps and cannot cast them to a
# list of key/value structs either, so a schema with map columns does not load.
_MAP_FIELDS = [f.name for f in documents_schema.SCHEMA if pa.types.is_map(f.type)]
_maps_block_datasets = pytest.mark.xfail(
    bool(_MAP_FIELDS),
    reason=f"documents schema has map columns {_MAP_FIELDS}: Hugging Face datasets cannot load Arrow maps;"
    " storing them as list<struct<key, value>> fixes it",
    strict=True,
)


@pytest.fixture
def hf_datasets(tmp_path, monkeypatch):
    """``datasets``, offline, with its cache in a temporary directory."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    datasets.disable_progress_bars()
    return datasets


def _load(hf_datasets, out_dir: str, kind: str, tmp_path):
    files = sorted(glob.glob(os.path.join(out_dir, kind, "*.parquet")))
    assert files
    return hf_datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=str(tmp_path / "hf-cache"))


@_maps_block_datasets
def test_documents_load_with_hf_datasets(synthetic_output, hf_datasets, tmp_path):
    ds = _load(hf_datasets, synthetic_output, "documents", tmp_path)

    assert ds.num_rows == 40
    assert ds.column_names == documents_schema.SCHEMA.names
    row = ds.sort("id")[0]
    assert row["id"] == "doc-0000" and row["text"].startswith("文書0。吾輩は猫である。")


def test_clusters_and_stats_load_with_hf_datasets(synthetic_output, hf_datasets, tmp_path):
    clusters = _load(hf_datasets, synthetic_output, "clusters", tmp_path)
    stats = hf_datasets.load_dataset(
        "parquet", data_files=[os.path.join(synthetic_output, "stats.parquet")], split="train",
        cache_dir=str(tmp_path / "hf-cache"),
    )

    assert clusters.column_names == clusters_schema.SCHEMA.names
    assert sum(clusters["kept"]) == 3  # one keeper per cluster
    kept = {(r["stage"], r["filter"]): r["count"] for r in stats if r["reason"] == "kept"}
    assert kept[("dedup", "near_dedup")] == 40


def test_shards_query_with_duckdb(synthetic_output):
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    docs = os.path.join(synthetic_output, "documents", "*.parquet").replace("'", "''")
    rejects = os.path.join(synthetic_output, "rejects", "*.parquet").replace("'", "''")
    first = sorted(glob.glob(docs))[0].replace("'", "''")
    with open(os.path.join(synthetic_output, "stats.json"), encoding="utf-8") as f:
        stats = json.load(f)

    n, n_ja, min_chars = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE lang = 'ja'), min(n_chars) FROM read_parquet('{docs}')"
    ).fetchone()
    assert (n, n_ja) == (stats["documents_out"], 40)
    assert min_chars == len("文書0。吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。"
                            "何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。")
    (score,) = con.execute(
        f"SELECT map_from_entries(scores)['hiragana_ratio.ratio'] FROM read_parquet('{docs}') WHERE id = 'doc-0003'"
    ).fetchone()
    assert score == pytest.approx(0.4)

    meta = dict(con.execute(f"SELECT decode(key), decode(value) FROM parquet_kv_metadata('{first}')").fetchall())
    assert meta["config_sha256"] == stats["config_sha256"]
    assert meta["schema_version"] == documents_schema.SCHEMA_VERSION

    by_reason = dict(con.execute(
        f"SELECT filter || '/' || reason, count(*) FROM read_parquet('{rejects}') GROUP BY ALL"
    ).fetchall())
    funnel = {f"{e['filter']}/{r}": c for e in stats["funnel"] for r, c in e["dropped"].items()}
    for key, count in by_reason.items():
        assert funnel[key] == count
    cols = [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{rejects}')").fetchall()]
    assert cols == rejects_schema.SCHEMA.names


@pytest.mark.slow
def test_real_sample_run_has_a_card_and_loadable_shards(sample_output, hf_datasets, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    from pipeline.card import write_card

    readme = os.path.join(sample_output, "README.md")
    if not os.path.exists(readme):  # the run writes it unless [output] card = false
        write_card(sample_output)
    with open(os.path.join(sample_output, "stats.json"), encoding="utf-8") as f:
        stats = json.load(f)
    text = open(readme, encoding="utf-8").read()

    assert text.startswith("---\nlanguage:\n- ja\n")
    assert f"| Documents | {stats['documents_out']:,} |" in text
    for name in ("funnel", "n_chars", "lang_score"):
        assert f"(plots/{name}.svg)" in text
        assert os.path.exists(os.path.join(sample_output, "plots", f"{name}.svg"))
    docs = os.path.join(sample_output, "documents", "*.parquet").replace("'", "''")
    (n,) = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{docs}')").fetchone()
    assert n == stats["documents_out"] > 0
    clusters = _load(hf_datasets, sample_output, "clusters", tmp_path)
    assert clusters.num_rows > 0


@pytest.mark.slow
@_maps_block_datasets
def test_real_sample_documents_load_with_hf_datasets(sample_output, hf_datasets, tmp_path):
    with open(os.path.join(sample_output, "stats.json"), encoding="utf-8") as f:
        stats = json.load(f)

    ds = _load(hf_datasets, sample_output, "documents", tmp_path)

    assert ds.num_rows == stats["documents_out"]


def test_shard_schemas_read_back_as_the_readme_shows_them(sample_output):
    """What a Parquet reader sees is what the schema modules (and so README's tables and
    the card's data fields) print, type strings included: the list item of `scores`
    and `pii` is `element`, as Parquet names it, not pyarrow's `item`."""
    import glob

    import pyarrow.parquet as pq

    from schemas import clusters, documents, rejects, stats

    for kind, mod in [("documents", documents), ("rejects", rejects), ("clusters", clusters)]:
        (shard, *_) = sorted(glob.glob(os.path.join(sample_output, kind, "*.parquet")))
        read = pq.read_schema(shard)
        assert [(f.name, str(f.type), f.nullable) for f in read] == \
            [(f.name, str(f.type), f.nullable) for f in mod.SCHEMA], kind
    read = pq.read_schema(os.path.join(sample_output, "stats.parquet"))
    assert [(f.name, str(f.type)) for f in read] == [(f.name, str(f.type)) for f in stats.SCHEMA]
