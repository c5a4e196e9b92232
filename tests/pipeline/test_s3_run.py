"""The pipeline reads WARC from s3:// and writes its outputs to s3://, over HTTP on 127.0.0.1."""

import io
import json

import pyarrow.parquet as pq
import pytest

from pipeline.run import run, sample_path

pytestmark = pytest.mark.s3


def _read_parquet_prefix(s3_client, bucket, prefix):
    rows = []
    listing = s3_client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    keys = sorted(o["Key"] for o in listing.get("Contents", []) if o["Key"].endswith(".parquet"))
    assert keys, f"nothing under s3://{bucket}/{prefix}"
    for key in keys:
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
        rows += pq.read_table(io.BytesIO(body)).to_pylist()
    return keys, rows


def test_run_from_s3_to_s3_matches_local(s3_endpoint, s3_client, s3_bucket, tmp_path):
    with open(sample_path(), "rb") as fh:
        s3_client.put_object(Bucket=s3_bucket, Key="crawl/part-0.warc.gz", Body=fh.read())
    s3_opts = [f"--s3_endpoint_url={s3_endpoint}", "--s3_region_name=us-east-1"]
    code = run([f"s3://{s3_bucket}/crawl/*.warc.gz", "--output", f"s3://{s3_bucket}/out",
                "--direct_running_mode=in_memory", *s3_opts])
    assert code == 0
    keys, docs = _read_parquet_prefix(s3_client, s3_bucket, "out/documents/")
    assert keys == ["out/documents/documents-00000-of-00001.parquet"]
    _, rejects = _read_parquet_prefix(s3_client, s3_bucket, "out/rejects/")
    stats = json.loads(s3_client.get_object(Bucket=s3_bucket, Key="out/stats.json")["Body"].read())
    assert stats["accounted"] and stats["records_in"] == len(docs) + len(rejects) == 53
    assert stats["inputs"] == [f"s3://{s3_bucket}/crawl/*.warc.gz"]
    names = {o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket, Prefix="out/")["Contents"]}
    assert {"out/_SUCCESS", "out/config.toml", "out/stats.parquet"} <= names
    assert not any(".furui-tmp" in n for n in names)
    # The dataset card is written next to the data, from stats, config and footers.
    assert {"out/README.md", "out/plots/funnel.svg"} <= names
    card = s3_client.get_object(Bucket=s3_bucket, Key="out/README.md")["Body"].read().decode()
    assert f"| Documents | {len(docs)} |" in card and "1 (" in card.split("Document shards", 1)[1][:20]
    # Each object carries its content type (the writers' temp objects are renamed,
    # i.e. copied, into place: the type must survive the copy).
    types = {key: s3_client.head_object(Bucket=s3_bucket, Key=key)["ContentType"]
             for key in ("out/README.md", "out/plots/funnel.svg", "out/stats.json", "out/config.toml",
                         "out/stats.parquet", "out/documents/documents-00000-of-00001.parquet")}
    assert types == {"out/README.md": "text/markdown; charset=utf-8", "out/plots/funnel.svg": "image/svg+xml",
                     "out/stats.json": "application/json", "out/config.toml": "application/toml",
                     "out/stats.parquet": "application/vnd.apache.parquet",
                     "out/documents/documents-00000-of-00001.parquet": "application/vnd.apache.parquet"}

    # `furui card` on the remote output rewrites it (options before or after the path,
    # "--opt value" or "--opt=value"); files of the user's in plots/ are left alone.
    from pipeline.card import main_card

    s3_client.delete_object(Bucket=s3_bucket, Key="out/README.md")
    s3_client.put_object(Bucket=s3_bucket, Key="out/plots/mine.svg", Body=b"<svg/>")
    assert main_card(["--s3_endpoint_url", s3_endpoint, "--s3_region_name", "us-east-1", f"s3://{s3_bucket}/out"]) == 0
    names = {o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket, Prefix="out/")["Contents"]}
    assert "out/README.md" in names and "out/plots/mine.svg" in names
    assert s3_client.get_object(Bucket=s3_bucket, Key="out/README.md")["Body"].read().decode() == card
    assert s3_client.head_object(Bucket=s3_bucket, Key="out/README.md")["ContentType"] == "text/markdown; charset=utf-8"
    # A misspelt filesystem option is an error, not minutes of retries against AWS.
    assert main_card([f"s3://{s3_bucket}/out", f"--s3_endpoint_ur={s3_endpoint}"]) == 2

    local = tmp_path / "local"
    assert run([sample_path(), "--output", str(local), "--direct_running_mode=in_memory"]) == 0
    local_docs = pq.read_table(local / "documents").to_pylist()
    assert sorted((d["id"], d["text"]) for d in docs) == sorted((d["id"], d["text"]) for d in local_docs)


def test_missing_bucket_is_one_clear_error(s3_endpoint, aws_env, capsys):
    code = run(["s3://furui-no-such-bucket/crawl/*.warc.gz", "--output", "/tmp/furui-unused",
                f"--s3_endpoint_url={s3_endpoint}", "--direct_running_mode=in_memory"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("furui: error:")


def test_finish_clears_temp_files_of_failed_attempts_on_object_storage(s3_endpoint, s3_client, s3_bucket):
    """Each write attempt has its own temp name, so a failed attempt's file is not
    renamed away by its retry; the run's finish deletes what is left. On S3 a
    "directory" does not exist as an object, so checking the prefix's existence
    alone found nothing to delete."""
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.config import load_config
    from pipeline.run import finish_output, mark_success

    FileSystems.set_options(PipelineOptions([f"--s3_endpoint_url={s3_endpoint}", "--s3_region_name=us-east-1"]))
    s3_client.put_object(Bucket=s3_bucket, Key="out/stats.json", Body=b'{"accounted": true}')
    s3_client.put_object(Bucket=s3_bucket, Key="out/.furui-tmp/documents__documents-00000-of-00001.parquet.ab12",
                         Body=b"half a shard")
    try:
        finish_output(f"s3://{s3_bucket}/out", load_config())
        mark_success(f"s3://{s3_bucket}/out", load_config())
    finally:
        FileSystems.set_options(PipelineOptions([]))
    names = {o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket, Prefix="out/")["Contents"]}
    assert {"out/_SUCCESS", "out/config.toml", "out/stats.json"} <= names
    assert not any(".furui-tmp" in n for n in names), names
