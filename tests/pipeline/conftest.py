"""Fixtures for the pipeline tests.

* ``make_output`` builds a small synthetic run output directory (documents,
  rejects and clusters shards written with the ``schemas`` SCHEMAs, ``stats.json``,
  ``stats.parquet``, ``config.toml``) so the card, publish and format tests do not
  depend on the Beam pipeline.
* ``s3_endpoint`` runs moto's S3 server over real HTTP on 127.0.0.1 (a free port)
  for the whole session; ``s3_bucket`` creates a fresh bucket per test and
  ``aws_env`` points the AWS credential chain at fake credentials only.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import urllib.request
import uuid
from typing import Callable

import pytest

FAKE_ACCESS_KEY = "testing"
FAKE_SECRET_KEY = "furui-fake-secret-0123456789abcdefABCDEF"

CONFIG_TOML = """\
# furui run configuration (synthetic test run)
config_version = 1

[io]
max_payload_bytes = 10_000_000
reshuffle = false

[extract]
timeout_s = 10.0
favor = "balanced"

[[filters]]
name = "normalize"
nfkc = true

[[filters]]
name = "langid"
languages = ["ja"]
min_score = 0.5

[[filters]]
name = "length"
min_chars = 200
max_chars = 500_000

[[filters]]
name = "hiragana_ratio"
min_ratio = 0.2

[[filters]]
name = "pii"
types = ["email", "phone"]

[dedup]
num_perm = 128
bands = 16
rows = 8
shingle_chars = 5

[output]
dataset_name = "furui-ja-test"
license = "cc-by-4.0"
description = "Synthetic furui output used by the tests."
"""

SENTENCES = [
    "吾輩は猫である。名前はまだ無い。",
    "どこで生れたかとんと見当がつかぬ。",
    "何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。",
    "東京の天気は晴れのち曇りで、午後から少し風が強くなるでしょう。",
    "この記事では、データパイプラインの設計について説明します。",
]


def _doc_text(i: int, extra: int = 0) -> str:
    parts = [SENTENCES[(i + k) % len(SENTENCES)] for k in range(3 + i % 5)]
    return f"文書{i}。" + "".join(parts) + "あ" * extra


def build_output(out_dir: str, *, n_docs: int = 40, n_shards: int = 3, config_text: str = CONFIG_TOML,
                 inputs: list[str] | None = None, big_shard_bytes: int = 0) -> str:
    """Writes a synthetic run output into ``out_dir`` and returns it.

    Args:
        out_dir: directory to create.
        n_docs: kept documents, spread over ``n_shards`` shards.
        n_shards: number of documents shards.
        config_text: verbatim ``config.toml``.
        inputs: input paths recorded in ``stats.json``.
        big_shard_bytes: if > 0, the last shard carries that many bytes of
            incompressible text (to force multipart uploads).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from schemas import clusters, documents, rejects, stats

    config_sha = hashlib.sha256(config_text.encode("utf-8")).hexdigest()
    file_meta = {"config_sha256": config_sha, "furui_version": "0.1.0"}

    def write(schema, rows, path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        meta = dict(schema.metadata or {})
        meta.update({k.encode(): v.encode() for k, v in file_meta.items()})
        table = pa.Table.from_pylist(rows, schema=schema.with_metadata(meta))
        pq.write_table(table, path, compression="zstd")

    docs = []
    for i in range(n_docs):
        text = _doc_text(i, extra=i * 7)
        docs.append(
            {
                "id": f"doc-{i:04d}",
                "url": f"https://example.jp/articles/{i}",
                "source": "crawl/sample-00000.warc.gz",
                "crawl_date": "2024-05-01T00:00:00Z",
                "text": text,
                "charset": "utf-8",
                "lang": "ja",
                "lang_score": round(0.6 + 0.4 * ((i * 37) % 100) / 100, 4),
                "n_chars": len(text),
                "n_tokens": len(text) // 2,
                "quality": round(((i * 13) % 10) / 10, 2),
                "scores": [{"key": "hiragana_ratio.ratio", "value": 0.4},
                           {"key": "length.n_chars", "value": float(len(text))}],
                "pii": [{"key": "email", "value": i % 2}],
            }
        )
    per = -(-n_docs // n_shards)
    for s in range(n_shards):
        rows = docs[s * per : (s + 1) * per]
        if big_shard_bytes and s == n_shards - 1 and rows:
            # Base85 of random bytes compresses back to about the random bytes, so
            # the shard really is at least this large.
            rows[-1] = dict(rows[-1], text=base64.b85encode(os.urandom(big_shard_bytes)).decode("ascii"))
        write(documents.SCHEMA, rows, os.path.join(out_dir, "documents", f"documents-{s:05d}-of-{n_shards:05d}.parquet"))

    funnel = [
        {"stage": "read", "filter": "read", "in": 180, "kept": 120, "dropped": {"not_response": 50, "not_html": 10}},
        {"stage": "extract", "filter": "extract", "in": 120, "kept": 110, "dropped": {"no_text": 10}},
        {"stage": "normalize", "filter": "normalize", "in": 110, "kept": 110, "dropped": {}},
        {"stage": "langid", "filter": "langid", "in": 110, "kept": 90, "dropped": {"not_ja": 20}},
        {"stage": "filter", "filter": "length", "in": 90, "kept": 78, "dropped": {"too_short": 12}},
        {"stage": "filter", "filter": "hiragana_ratio", "in": 78, "kept": 70, "dropped": {"too_few_hiragana": 8}},
        {"stage": "pii", "filter": "pii", "in": 70, "kept": 70, "dropped": {}},
        {"stage": "dedup", "filter": "exact_dedup", "in": 70, "kept": 46, "dropped": {"exact_duplicate": 24}},
        {"stage": "dedup", "filter": "near_dedup", "in": 46, "kept": n_docs, "dropped": {"near_duplicate": 46 - n_docs}},
    ]
    # One reject row per dropped record, so the rejects table agrees with the funnel.
    reject_rows = []
    for step in funnel:
        for reason, n in step["dropped"].items():
            flt = step["filter"]
            for j in range(n):
                reject_rows.append(
                    {"id": f"rej-{flt}-{reason}-{j}", "url": f"https://example.jp/r/{flt}/{j}",
                     "source": "crawl/sample-00000.warc.gz", "stage": step["stage"], "filter": flt, "reason": reason,
                     "detail": "", "scores": [{"key": f"{flt}.score", "value": j / 10}] if step["stage"] != "read" else [],
                     "dup_of": "doc-0001" if reason.endswith("duplicate") else "",
                     "n_chars": 0 if step["stage"] in ("read", "extract") else 50 + j}
                )
    write(rejects.SCHEMA, reject_rows, os.path.join(out_dir, "rejects", "rejects-00000-of-00001.parquet"))
    cluster_rows = []
    for c in range(3):
        for m in range(2 + c):
            cluster_rows.append({"cluster_id": f"c{c}", "doc_id": f"doc-{c:04d}" if m == 0 else f"rej-near_dedup-near_duplicate-{m}",
                                 "kept": m == 0, "size": 2 + c, "kind": "near"})
    write(clusters.SCHEMA, cluster_rows, os.path.join(out_dir, "clusters", "clusters-00000-of-00001.parquet"))

    n_chars = [d["n_chars"] for d in docs]
    edges = [10, 30, 100, 300, 1000, 3000]
    counts = [sum(1 for n in n_chars if a <= n < b) for a, b in zip(edges, edges[1:])]
    score_edges = [round(0.5 + 0.05 * k, 2) for k in range(11)]
    score_counts = [sum(1 for d in docs if a <= d["lang_score"] < b or (b == 1.0 and d["lang_score"] == 1.0))
                    for a, b in zip(score_edges, score_edges[1:])]
    stats_json = {
        "furui_version": "0.1.0",
        "config_sha256": config_sha,
        "config_version": 1,
        "schema_versions": {"documents": "2", "rejects": "2", "clusters": "1", "stats": "1"},
        "inputs": inputs if inputs is not None else ["crawl/sample-00000.warc.gz"],
        "records_in": 180,
        "documents_out": n_docs,
        "rejected": 180 - n_docs,
        "funnel": funnel,
        "pii": {"email": 3, "phone": 5},
        "hosts": {"distinct": 1, "top": [{"host": "example.jp", "documents": n_docs, "chars": sum(n_chars)}],
                  "without_host": {"documents": 0, "chars": 0}},
        "histograms": {"n_chars": {"edges": edges, "counts": counts},
                       "lang_score": {"edges": score_edges, "counts": score_counts},
                       "cluster_size": {"2": 10, "3": 4, "5": 1}},
        "dedup": {"num_perm": 128, "bands": 16, "rows": 8, "threshold": 0.707, "clusters": 15},
        "filters": [{"name": "length", "stage": "filter", "thresholds": {"min_chars": 200, "max_chars": 500000}},
                    {"name": "hiragana_ratio", "stage": "filter", "thresholds": {"min_ratio": 0.2}}],
    }
    with open(os.path.join(out_dir, "stats.json"), "w", encoding="utf-8") as f:
        json.dump(stats_json, f, ensure_ascii=False, indent=2)
    stat_rows = []
    for entry in funnel:
        stat_rows.append({"stage": entry["stage"], "filter": entry["filter"], "reason": "kept", "count": entry["kept"]})
        stat_rows += [{"stage": entry["stage"], "filter": entry["filter"], "reason": r, "count": c}
                      for r, c in entry["dropped"].items()]
    pq.write_table(pa.Table.from_pylist(stat_rows, schema=stats.SCHEMA), os.path.join(out_dir, "stats.parquet"))
    with open(os.path.join(out_dir, "config.toml"), "w", encoding="utf-8") as f:
        f.write(config_text)
    with open(os.path.join(out_dir, "_SUCCESS"), "w", encoding="utf-8") as f:  # as finish_output writes it
        f.write(f"config_sha256 {config_sha}\n")
    return out_dir


_SAMPLE_RUN: dict[str, str] = {}


def sample_run_output(tmp_path_factory) -> str:
    """Output of ``furui run`` on the bundled sample, run once per session.

    Skips the calling test when the pipeline or its sample is not available.
    """
    if "out" not in _SAMPLE_RUN:
        try:
            from pipeline.run import run, sample_path
        except ImportError as exc:
            pytest.skip(f"pipeline.run is not available: {exc}")
        if not os.path.exists(sample_path()):
            pytest.skip("the bundled sample is not available")
        out = str(tmp_path_factory.mktemp("sample-run") / "out")
        assert run(["--output", out]) == 0
        _SAMPLE_RUN["out"] = out
    return _SAMPLE_RUN["out"]


@pytest.fixture
def sample_output(tmp_path_factory) -> str:
    """The output directory of the bundled sample run (shared by the session)."""
    return sample_run_output(tmp_path_factory)


@pytest.fixture
def make_output(tmp_path) -> Callable[..., str]:
    """Factory: ``make_output(name="out", **build_output_kwargs)`` -> output dir path."""

    def make(name: str = "out", **kwargs) -> str:
        return build_output(str(tmp_path / name), **kwargs)

    return make


@pytest.fixture
def synthetic_output(make_output) -> str:
    """A synthetic run output with 40 documents in 3 shards."""
    return make_output()


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """Fake credentials through the standard AWS chain; no real profile or IMDS is consulted."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
                 "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return {"access_key": FAKE_ACCESS_KEY, "secret_key": FAKE_SECRET_KEY}


@pytest.fixture(scope="session")
def s3_endpoint():
    """URL of a moto S3 server on 127.0.0.1 (free port), running for the session."""
    pytest.importorskip("moto.server", reason="moto[server] is not installed")
    from moto.server import ThreadedMotoServer

    # One access-log line per request would drown the test output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _set_moto_auth(endpoint: str, enabled: bool) -> None:
    """Switches moto's credential checking on (unknown keys rejected) or off (default).

    moto accepts any credentials unless ``INITIAL_NO_AUTH_ACTION_COUNT`` is finite;
    its ``/moto-api/reset-auth`` endpoint sets that count on a running server.
    """
    body = b"0" if enabled else b"inf"
    req = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=body, method="POST",
                                 headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200


@pytest.fixture
def moto_auth(s3_endpoint):
    """Context manager factory: ``with moto_auth(): ...`` runs with credential checks on."""

    @contextlib.contextmanager
    def enabled():
        _set_moto_auth(s3_endpoint, True)
        try:
            yield
        finally:
            _set_moto_auth(s3_endpoint, False)

    return enabled


@pytest.fixture
def config_text() -> str:
    """The verbatim config.toml of the synthetic output."""
    return CONFIG_TOML


@pytest.fixture
def s3_client(s3_endpoint, aws_env):
    """A boto3 S3 client bound to the moto server."""
    import boto3

    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")


@pytest.fixture
def s3_bucket(s3_client) -> str:
    """A fresh, empty bucket on the moto server."""
    name = f"furui-test-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name
