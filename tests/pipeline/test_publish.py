"""``furui publish`` against a real S3 API over HTTP (moto's server on 127.0.0.1)."""

from __future__ import annotations

import hashlib
import json
import logging
import os

import pytest

from pipeline.publish import MANIFEST_NAME, PublishError, collect_files, main_publish, parse_dest, publish

pytestmark = pytest.mark.s3

MIB = 1024 * 1024


def _keys(client, bucket: str, prefix: str = "") -> dict[str, int]:
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out.update({o["Key"]: o["Size"] for o in page.get("Contents", [])})
    return out


def _sha(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _count_writes(client) -> list[str]:
    """Records every write request the client sends (PUT, multipart, delete)."""
    calls: list[str] = []
    for op in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "DeleteObject"):
        client.meta.events.register(f"before-call.s3.{op}", lambda model, **_: calls.append(model.name))
    return calls


def test_parse_dest():
    assert parse_dest("s3://bkt/a/b/") == ("bkt", "a/b/")
    assert parse_dest("s3://bkt") == ("bkt", "")
    with pytest.raises(PublishError, match="s3://bucket"):
        parse_dest("gs://bkt/x")


def test_publish_uploads_every_file_and_the_manifest_last(synthetic_output, s3_client, s3_bucket):
    seen_manifest_during_upload = []

    def after_upload(rel):
        seen_manifest_during_upload.append(f"run1/{MANIFEST_NAME}" in _keys(s3_client, s3_bucket))

    result = publish(synthetic_output, f"s3://{s3_bucket}/run1", client=s3_client, after_upload=after_upload)

    rels = collect_files(synthetic_output)
    assert rels[0].startswith("documents/") and "config.toml" in rels and "stats.json" in rels
    assert result.uploaded == rels + [MANIFEST_NAME]
    assert result.skipped == []
    remote = _keys(s3_client, s3_bucket)
    assert set(remote) == {f"run1/{r}" for r in rels} | {f"run1/{MANIFEST_NAME}"}
    assert seen_manifest_during_upload and not any(seen_manifest_during_upload)

    manifest = json.loads(s3_client.get_object(Bucket=s3_bucket, Key=f"run1/{MANIFEST_NAME}")["Body"].read())
    assert [f["path"] for f in manifest["files"]] == rels
    for entry in manifest["files"]:
        local = os.path.join(synthetic_output, entry["path"])
        assert entry["sha256"] == _sha(local)
        assert entry["size"] == remote[f"run1/{entry['path']}"] == os.path.getsize(local)
    assert manifest["documents_out"] == 40
    body = s3_client.get_object(Bucket=s3_bucket, Key="run1/stats.json")["Body"].read()
    with open(os.path.join(synthetic_output, "stats.json"), "rb") as f:
        assert body == f.read()
    head = s3_client.head_object(Bucket=s3_bucket, Key="run1/config.toml", ChecksumMode="ENABLED")
    assert head["Metadata"]["sha256"] == _sha(os.path.join(synthetic_output, "config.toml"))
    assert head["ChecksumSHA256"]  # S3 computed and checked the SHA-256 itself


def test_card_and_plots_are_served_with_their_content_types(synthetic_output, s3_client, s3_bucket):
    from pipeline.card import write_card

    write_card(synthetic_output)
    publish(synthetic_output, f"s3://{s3_bucket}/typed", client=s3_client)

    def content_type(rel):
        return s3_client.head_object(Bucket=s3_bucket, Key=f"typed/{rel}")["ContentType"]

    # Browsers (and the Hub's file viewer) render SVG only when served as image/svg+xml.
    assert content_type("plots/funnel.svg") == "image/svg+xml"
    assert content_type("README.md") == "text/markdown; charset=utf-8"
    assert content_type("stats.json") == "application/json"


def test_large_file_goes_up_in_parts_and_is_verified(make_output, s3_client, s3_bucket):
    out = make_output(big_shard_bytes=6 * MIB)
    writes = _count_writes(s3_client)

    publish(out, f"s3://{s3_bucket}/big", client=s3_client, multipart_threshold=1 * MIB, multipart_chunksize=5 * MIB)

    big = max(collect_files(out), key=lambda r: os.path.getsize(os.path.join(out, r)))
    assert 5 * MIB < os.path.getsize(os.path.join(out, big)) <= 10 * MIB
    head = s3_client.head_object(Bucket=s3_bucket, Key=f"big/{big}", ChecksumMode="ENABLED")
    assert head["ETag"].strip('"').endswith("-2")  # a two-part multipart upload
    assert writes.count("UploadPart") == 2 and writes.count("CompleteMultipartUpload") == 1
    body = s3_client.get_object(Bucket=s3_bucket, Key=f"big/{big}")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == _sha(os.path.join(out, big))


def test_republishing_unchanged_output_writes_nothing(synthetic_output, s3_client, s3_bucket):
    first = publish(synthetic_output, f"s3://{s3_bucket}/p", client=s3_client)
    writes = _count_writes(s3_client)

    second = publish(synthetic_output, f"s3://{s3_bucket}/p", client=s3_client)

    assert writes == []
    assert second.uploaded == []
    assert second.skipped == first.uploaded


def test_unfinished_run_is_refused(synthetic_output, s3_client, s3_bucket, capsys):
    os.remove(os.path.join(synthetic_output, "_SUCCESS"))
    with pytest.raises(PublishError, match="no _SUCCESS marker"):
        publish(synthetic_output, f"s3://{s3_bucket}/inc", client=s3_client)
    assert s3_client.list_objects_v2(Bucket=s3_bucket, Prefix="inc/").get("KeyCount", 0) == 0
    assert main_publish([synthetic_output, f"s3://{s3_bucket}/inc"]) == 1
    assert "did not finish" in capsys.readouterr().err


def test_shards_of_an_earlier_publish_are_reported_then_deleted_on_request(make_output, s3_client, s3_bucket):
    many = make_output("many", n_shards=5)
    few = make_output("few", n_shards=2)
    publish(many, f"s3://{s3_bucket}/re", client=s3_client)
    s3_client.put_object(Bucket=s3_bucket, Key="re/notes/keep.txt", Body=b"not ours")  # outside the run's folders

    second = publish(few, f"s3://{s3_bucket}/re", client=s3_client)
    old = [f"documents/documents-{i:05d}-of-00005.parquet" for i in range(5)]
    assert second.stale == old and second.deleted == []
    keys = {o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket, Prefix="re/")["Contents"]}
    assert {f"re/{k}" for k in old} <= keys

    third = publish(few, f"s3://{s3_bucket}/re", client=s3_client, delete_stale=True)
    assert third.deleted == old and third.stale == []
    keys = {o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket, Prefix="re/")["Contents"]}
    assert not any("-of-00005" in k for k in keys) and "re/notes/keep.txt" in keys
    assert "re/_MANIFEST.json" in keys


def test_cli_rejects_non_positive_transfer_settings(synthetic_output, capsys):
    """Each a usage error (exit 2), not a traceback from s3transfer: nan and inf
    passed a "> 0" check, and 1e-9 MiB became a part size of 0 bytes."""
    for flag, value, says in (("--max-concurrency", "0", "must be a finite number > 0"),
                              ("--multipart-threshold-mb", "-1", "must be a finite number > 0"),
                              ("--multipart-threshold-mb", "nan", "must be a finite number > 0"),
                              ("--multipart-chunksize-mb", "inf", "must be a finite number > 0"),
                              ("--multipart-threshold-mb", "1e-9", "at least one byte"),
                              ("--multipart-chunksize-mb", "1e12", "at most 5 TiB")):
        with pytest.raises(SystemExit) as exc:
            main_publish([synthetic_output, "s3://bucket/p", flag, value])
        assert exc.value.code == 2
        assert says in capsys.readouterr().err, (flag, value)


@pytest.mark.parametrize("damage, says", [
    ("drop_shard", "lacks 1 of its 3 shards (e.g. documents-00001-of-00003.parquet)"),
    ("extra_shard", "does not hold one run's shards"),
    ("index_beyond", "holds a shard index beyond its 3 shards"),
    ("drop_reject_shards", "rejects/ in"),
    ("stats_count", "holds 40 rows where stats.json counts 41 (documents_out)"),
    ("stats_truncated", "stats.json in"),
    ("other_config", "are from different runs"),
])
def test_an_output_that_is_not_one_whole_run_is_refused(synthetic_output, s3_client, s3_bucket, damage, says, capsys):
    """_SUCCESS says the run finished, not that the directory still holds what it
    wrote: a copy cut short (_SUCCESS sorts before documents/) or a shard deleted
    by hand was published, and its manifest vouched for a partial dataset."""
    import shutil

    docs = os.path.join(synthetic_output, "documents")
    stats_path = os.path.join(synthetic_output, "stats.json")
    if damage == "drop_shard":
        os.remove(os.path.join(docs, "documents-00001-of-00003.parquet"))
    elif damage == "extra_shard":
        shutil.copy(os.path.join(docs, "documents-00001-of-00003.parquet"),
                    os.path.join(docs, "documents-00000-of-00002.parquet"))
    elif damage == "index_beyond":  # an empty shard: the row counts cannot see it
        import pyarrow.parquet as pq

        empty = pq.read_table(os.path.join(docs, "documents-00001-of-00003.parquet")).slice(0, 0)
        pq.write_table(empty, os.path.join(docs, "documents-00007-of-00003.parquet"))
    elif damage == "drop_reject_shards":
        shutil.rmtree(os.path.join(synthetic_output, "rejects"))
    elif damage == "stats_count":
        stats = json.loads(open(stats_path, encoding="utf-8").read())
        stats["documents_out"] = 41
        open(stats_path, "w", encoding="utf-8").write(json.dumps(stats))
    elif damage == "stats_truncated":
        text = open(stats_path, encoding="utf-8").read()
        open(stats_path, "w", encoding="utf-8").write(text[: len(text) // 2])
    elif damage == "other_config":
        open(os.path.join(synthetic_output, "_SUCCESS"), "w").write("config_sha256 " + "0" * 64 + "\n")
    with pytest.raises(PublishError, match=says.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        publish(synthetic_output, f"s3://{s3_bucket}/part", client=s3_client)
    assert s3_client.list_objects_v2(Bucket=s3_bucket, Prefix="part/").get("KeyCount", 0) == 0
    assert main_publish([synthetic_output, f"s3://{s3_bucket}/part"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("furui publish: error: ")


def test_ctrl_c_during_upload_says_how_to_resume(synthetic_output, s3_endpoint, s3_bucket, aws_env, monkeypatch,
                                                  capsys):
    """Ctrl-C mid-publish ends with a line that says the state and exit 130, not a
    traceback; no manifest vouches for the part sent, and the rerun sends the rest."""
    from pipeline import publish as publish_mod

    real_upload = publish_mod._Publisher.upload
    sent = []

    def upload(self, local):
        if len(sent) == 2:
            raise KeyboardInterrupt
        sent.append(local.rel)
        return real_upload(self, local)

    monkeypatch.setattr(publish_mod._Publisher, "upload", upload)
    rc = main_publish([synthetic_output, f"s3://{s3_bucket}/cc", "--endpoint-url", s3_endpoint])
    err = capsys.readouterr().err
    assert rc == 130 and err.count("\n") == 1 and "interrupted" in err and "again to resume" in err
    monkeypatch.setattr(publish_mod._Publisher, "upload", real_upload)
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint)
    keys = _keys(client, s3_bucket, "cc/")
    assert len(keys) == 2 and "cc/" + MANIFEST_NAME not in keys
    assert main_publish([synthetic_output, f"s3://{s3_bucket}/cc", "--endpoint-url", s3_endpoint]) == 0
    assert f"{len(collect_files(synthetic_output)) - 1} uploaded, 2 unchanged" in capsys.readouterr().out


def test_a_file_that_goes_away_during_the_publish_is_one_clear_line(synthetic_output, s3_client, s3_bucket):
    """A run started on the same directory while it is published deletes its files:
    one line, no manifest (it was a FileNotFoundError traceback)."""
    rels = collect_files(synthetic_output)

    def remove_next(rel):
        nxt = rels[rels.index(rel) + 1]
        if os.path.exists(os.path.join(synthetic_output, nxt)):
            os.remove(os.path.join(synthetic_output, nxt))

    with pytest.raises(PublishError, match=f"reading {rels[1]} failed during the publish"):
        publish(synthetic_output, f"s3://{s3_bucket}/gone", client=s3_client, after_upload=remove_next)
    assert "gone/" + MANIFEST_NAME not in _keys(s3_client, s3_bucket, "gone/")


def test_a_broken_credential_chain_is_one_clear_line(synthetic_output, s3_endpoint, aws_env, monkeypatch, capsys):
    """A profile that does not exist (or a failing credential_process) raised from
    boto3's session before any request: a traceback."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")

    rc = main_publish([synthetic_output, "s3://whatever-bucket/x", "--endpoint-url", s3_endpoint])

    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1
    assert "loading the AWS credentials failed" in err and "no-such-profile" in err


def test_resume_after_failure_uploads_only_the_rest(synthetic_output, s3_client, s3_bucket):
    done = []

    def fail_after_three(rel):
        done.append(rel)
        if len(done) == 3:
            raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError, match="simulated crash"):
        publish(synthetic_output, f"s3://{s3_bucket}/r", client=s3_client, after_upload=fail_after_three)
    remote = _keys(s3_client, s3_bucket)
    assert set(remote) == {f"r/{rel}" for rel in done}  # no manifest: the publish is visibly incomplete

    result = publish(synthetic_output, f"s3://{s3_bucket}/r", client=s3_client)

    rels = collect_files(synthetic_output)
    assert result.skipped == done
    assert result.uploaded == [r for r in rels if r not in done] + [MANIFEST_NAME]
    assert f"r/{MANIFEST_NAME}" in _keys(s3_client, s3_bucket)


def test_changed_output_drops_the_old_manifest_before_replacing_files(synthetic_output, s3_client, s3_bucket):
    publish(synthetic_output, f"s3://{s3_bucket}/c", client=s3_client)
    with open(os.path.join(synthetic_output, "README.md"), "w", encoding="utf-8") as f:
        f.write("# changed card\n")

    def crash(rel):
        raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError):
        publish(synthetic_output, f"s3://{s3_bucket}/c", client=s3_client, after_upload=crash)
    assert f"c/{MANIFEST_NAME}" not in _keys(s3_client, s3_bucket)

    result = publish(synthetic_output, f"s3://{s3_bucket}/c", client=s3_client)
    assert result.uploaded == [MANIFEST_NAME]
    manifest = json.loads(s3_client.get_object(Bucket=s3_bucket, Key=f"c/{MANIFEST_NAME}")["Body"].read())
    assert {f["path"]: f["sha256"] for f in manifest["files"]}["README.md"] == _sha(
        os.path.join(synthetic_output, "README.md")
    )


def test_remote_object_with_wrong_bytes_is_uploaded_again(synthetic_output, s3_client, s3_bucket):
    publish(synthetic_output, f"s3://{s3_bucket}/v", client=s3_client)
    # Same size and same claimed sha256 metadata, different bytes: only S3's own
    # checksum can tell, and publish must not trust the metadata alone.
    local = os.path.join(synthetic_output, "stats.json")
    with open(local, "rb") as f:
        good = f.read()
    bad = bytes([good[0] ^ 1]) + good[1:]
    s3_client.put_object(Bucket=s3_bucket, Key="v/stats.json", Body=bad, ChecksumAlgorithm="SHA256",
                         Metadata={"sha256": _sha(local)})

    result = publish(synthetic_output, f"s3://{s3_bucket}/v", client=s3_client)

    assert result.uploaded == ["stats.json", MANIFEST_NAME]
    assert s3_client.get_object(Bucket=s3_bucket, Key="v/stats.json")["Body"].read() == good


def test_cli_publishes_and_never_prints_or_logs_the_secret(synthetic_output, s3_endpoint, s3_bucket, aws_env,
                                                           caplog, capsys):
    caplog.set_level(logging.DEBUG)  # botocore's own debug logs included

    rc = main_publish([synthetic_output, f"s3://{s3_bucket}/cli", "--endpoint-url", s3_endpoint,
                       "--multipart-threshold-mb", "1", "--multipart-chunksize-mb", "5"])

    out, err = capsys.readouterr()
    assert rc == 0
    assert f"s3://{s3_bucket}/cli/_MANIFEST.json" in out
    assert "botocore" in caplog.text  # the debug logs really were captured
    for text in (out, err, caplog.text):
        assert aws_env["secret_key"] not in text


def test_missing_bucket_is_one_clear_line(synthetic_output, s3_endpoint, aws_env, capsys):
    rc = main_publish([synthetic_output, "s3://no-such-bucket-furui/x", "--endpoint-url", s3_endpoint])

    err = capsys.readouterr().err
    assert rc == 1
    assert err.count("\n") == 1
    assert "furui publish: error: bucket 'no-such-bucket-furui' does not exist" in err


def test_bad_credentials_are_one_clear_line(synthetic_output, s3_endpoint, s3_bucket, aws_env, moto_auth, caplog,
                                            capsys):
    # moto accepts any key unless authentication is switched on; then our fake
    # key is unknown to its IAM, exactly like a wrong or revoked key on AWS.
    caplog.set_level(logging.DEBUG)
    with moto_auth():
        rc = main_publish([synthetic_output, f"s3://{s3_bucket}/x", "--endpoint-url", s3_endpoint])

    out, err = capsys.readouterr()
    assert rc == 1
    assert err.count("\n") == 1
    assert "S3 rejected the credentials (InvalidAccessKeyId)" in err
    for text in (out, err, caplog.text):
        assert aws_env["secret_key"] not in text


def test_no_credentials_is_one_clear_line(synthetic_output, s3_endpoint, aws_env, monkeypatch, capsys):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    rc = main_publish([synthetic_output, "s3://whatever-bucket/x", "--endpoint-url", s3_endpoint])

    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1
    assert "no AWS credentials found" in err


def test_destination_with_embedded_credentials_is_refused_without_echo(synthetic_output, capsys):
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    rc = main_publish([synthetic_output, f"s3://AKIAIOSFODNN7EXAMPLE:{secret}@bucket/x"])
    rc_endpoint = main_publish([synthetic_output, "s3://bucket/x", "--endpoint-url", f"https://admin:{secret}@minio:9000"])

    err = capsys.readouterr().err
    assert rc == rc_endpoint == 1
    assert "destination URL must not embed credentials" in err and "--endpoint-url must not embed credentials" in err
    assert secret not in err and "AKIAIOSFODNN7EXAMPLE" not in err


@pytest.mark.parametrize("endpoint, env, message", [
    ("minio:hunter2-secret@127.0.0.1:5077", {}, "--endpoint-url must be an http:// or https:// URL"),
    (None, {"AWS_ENDPOINT_URL": "http://minio:hunter2-secret@127.0.0.1:5099"},
     "AWS_ENDPOINT_URL must not embed credentials (http://127.0.0.1:5099)"),
    (None, {"AWS_ENDPOINT_URL_S3": "127.0.0.1:hunter2-secret@x"}, "AWS_ENDPOINT_URL_S3 must be an http:// or https://"),
])
def test_endpoint_without_scheme_or_with_credentials_is_one_line_without_the_secret(
        synthetic_output, capsys, monkeypatch, endpoint, env, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    args = [synthetic_output, "s3://bucket/x"] + (["--endpoint-url", endpoint] if endpoint else [])
    assert main_publish(args) == 1
    err = capsys.readouterr().err
    assert message in err and "hunter2" not in err and len(err.strip().splitlines()) == 1, err


def test_config_with_a_secret_is_not_published(make_output, config_text, s3_client, s3_bucket):
    out = make_output(config_text=config_text + '\n[extra]\naws_secret_access_key = "hunter2-very-secret"\n')

    with pytest.raises(PublishError) as info:
        publish(out, f"s3://{s3_bucket}/s", client=s3_client)
    assert "extra.aws_secret_access_key" in str(info.value)
    assert "hunter2" not in str(info.value)
    assert _keys(s3_client, s3_bucket) == {}


def test_config_with_credentials_inside_a_sentence_is_not_published(make_output, config_text, s3_client, s3_bucket):
    text = config_text + '\n[extra]\nnote = "Mirror: https://alice:hunter2@data.example.com/crawl"\n'
    out = make_output(config_text=text)

    with pytest.raises(PublishError) as info:
        publish(out, f"s3://{s3_bucket}/s", client=s3_client)
    assert "extra.note" in str(info.value) and "hunter2" not in str(info.value)
    assert _keys(s3_client, s3_bucket) == {}
