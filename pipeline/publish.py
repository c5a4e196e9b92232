"""Publishing a run's output directory to S3 (or any S3-compatible store).

``furui publish OUTPUT_DIR s3://bucket/prefix [--endpoint-url URL]`` uploads the
shards, stats, config, dataset card and plots, then ``_MANIFEST.json`` last.

Guarantees:

* **Integrity.** Every object is uploaded with ``ChecksumAlgorithm="SHA256"``, so
  S3 checks each request body (each part, for multipart uploads) against the
  SHA-256 the client sends, and stores the file's SHA-256 as user metadata
  ``x-amz-meta-sha256``. After the upload a ``HEAD`` (``ChecksumMode=ENABLED``)
  must report the local size and the checksum S3 computed: the full-object
  SHA-256 for a single PUT, or for a multipart upload the composite
  ``sha256(sha256(part 1) || ... || sha256(part N))`` that we recompute locally
  from the same part size. A mismatch is an error.
* **Idempotence.** A file is skipped when the remote object passes that same
  verification (size, metadata SHA-256 and, when the store reports one, the
  server checksum), so re-publishing an unchanged directory with the same part
  size uploads nothing (a multipart object's checksum depends on its part size).
* **Resumability.** Files are independent objects, so a rerun after a failure
  uploads only what is missing or different. ``_MANIFEST.json`` (every file's
  path, size and SHA-256) is written only after all files are verified; an
  existing manifest that differs from the new one is deleted *before* any upload,
  so a consumer that waits for the manifest never reads a half-replaced
  publish. Objects under the prefix that are not in the manifest are not part
  of the dataset; those in the run's own folders (``documents/``, ``rejects/``,
  ``clusters/``, ``plots/``: shards of an earlier publish with another shard
  count) are listed in a warning, since a reader globbing ``documents/*.parquet``
  would see them, and ``--delete-stale`` deletes them before the manifest is written.
* **Only finished, whole runs.** A directory without ``_SUCCESS`` (a run that
  failed or was stopped) is refused: its manifest would vouch for an incomplete
  dataset. So is one whose files are not the run's whole set (:func:`check_complete`:
  a copy cut short, a shard deleted or added by hand): every ``-NNNNN-of-MMMMM``
  shard present, their rows adding up to ``stats.json``'s counts, ``_SUCCESS``
  naming the config of ``stats.json``.
* **Credentials** come from the standard AWS chain (env, profile, SSO, instance
  role) and are never printed or logged; errors are one line without them.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import hashlib
import json
import logging
import math
import os
import re
import sys
import tomllib
from typing import Any, Callable, Iterable

from pipeline.card import content_type, secret_paths, strip_userinfo, url_has_credentials

log = logging.getLogger(__name__)

MANIFEST_NAME = "_MANIFEST.json"
MANIFEST_VERSION = 1
MIB = 1024 * 1024
DEFAULT_MULTIPART_THRESHOLD = 64 * MIB
DEFAULT_MULTIPART_CHUNKSIZE = 64 * MIB
_READ_BLOCK = 1 * MIB

# Publish order: data first, then what describes it; the manifest comes last.
_ORDER = ("documents/", "rejects/", "clusters/", "stats.parquet", "stats.json", "config.toml", "plots/", "README.md")
# Folders whose objects under the prefix belong to the published run, or are stale.
_RUN_FOLDERS = ("documents/", "rejects/", "clusters/", "plots/")
_BAD_CREDENTIALS = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "TokenRefreshRequired",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "AuthorizationHeaderMalformed",
}


class PublishError(Exception):
    """A publish failure, with a one-line message that is safe to print."""


@dataclasses.dataclass(frozen=True)
class LocalFile:
    """One file to publish.

    Attributes:
        rel: path relative to the output directory, ``/``-separated (the key suffix).
        path: local path.
        size: bytes.
        sha256: hex SHA-256 of the content.
        composite_b64: base64 of the multipart composite checksum S3 will report
            (``None`` when the file is uploaded in a single PUT).
        parts: number of multipart parts (0 for a single PUT).
    """

    rel: str
    path: str
    size: int
    sha256: str
    composite_b64: str | None
    parts: int

    @property
    def sha256_b64(self) -> str:
        """The SHA-256 as S3 reports it (base64)."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode("ascii")


@dataclasses.dataclass
class PublishResult:
    """What a publish did.

    Attributes:
        bucket: destination bucket.
        prefix: key prefix ('' or ending with ``/``).
        uploaded: relative paths uploaded in this call (the manifest included).
        skipped: relative paths already present and verified.
        stale: objects in the run's folders that are not part of this run (left alone).
        deleted: such objects deleted (``delete_stale``).
    """

    bucket: str
    prefix: str
    uploaded: list[str] = dataclasses.field(default_factory=list)
    skipped: list[str] = dataclasses.field(default_factory=list)
    stale: list[str] = dataclasses.field(default_factory=list)
    deleted: list[str] = dataclasses.field(default_factory=list)

    @property
    def manifest_key(self) -> str:
        """Key of the manifest object."""
        return self.prefix + MANIFEST_NAME


def parse_dest(dest: str) -> tuple[str, str]:
    """Splits ``s3://bucket/prefix`` into bucket and prefix ('' or ending in ``/``).

    >>> parse_dest("s3://my-bucket/runs/2024-05/")
    ('my-bucket', 'runs/2024-05/')
    >>> parse_dest("s3://my-bucket")
    ('my-bucket', '')
    """
    if strip_userinfo(dest) != dest:
        # Do not echo the destination: it holds the credentials.
        raise PublishError("the destination URL must not embed credentials; use the AWS credential chain")
    if not dest.startswith("s3://"):
        raise PublishError(f"destination must be s3://bucket[/prefix], got {dest!r}")
    bucket, _, prefix = dest[len("s3://") :].partition("/")
    if not bucket:
        raise PublishError(f"destination has no bucket: {dest!r}")
    prefix = prefix.strip("/")
    return bucket, (prefix + "/") if prefix else ""


def _sort_key(rel: str) -> tuple[int, str]:
    for i, head in enumerate(_ORDER):
        if rel == head or (head.endswith("/") and rel.startswith(head)):
            return i, rel
    return len(_ORDER), rel


def collect_files(out_dir: str) -> list[str]:
    """Relative paths of the files to publish, in publish order.

    Hidden and temporary entries (names starting with ``.`` or ``_``, such as Beam's
    temp directories or a stale local manifest) are left out.
    """
    rels = []
    for root, dirs, files in os.walk(out_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")) and not d.startswith("beam-temp"))
        for name in files:
            if name.startswith((".", "_")):
                continue
            path = os.path.join(root, name)
            if os.path.isfile(path):
                rels.append(os.path.relpath(path, out_dir).replace(os.sep, "/"))
    return sorted(rels, key=_sort_key)


def _multipart_chunksize(size: int, threshold: int, chunksize: int) -> int:
    """The part size s3transfer will use for ``size`` bytes (0 for a single PUT)."""
    if size < threshold:
        return 0
    from s3transfer.utils import ChunksizeAdjuster

    # s3transfer raises the part size to S3's 5 MiB minimum and so that there are
    # at most 10,000 parts; the composite checksum depends on it.
    return ChunksizeAdjuster().adjust_chunksize(chunksize, size)


def hash_file(out_dir: str, rel: str, threshold: int, chunksize: int) -> LocalFile:
    """Hashes one file in a single pass: full SHA-256 and, if multipart, the composite."""
    path = os.path.join(out_dir, *rel.split("/"))
    size = os.path.getsize(path)
    part_size = _multipart_chunksize(size, threshold, chunksize)
    full = hashlib.sha256()
    part_digests: list[bytes] = []
    part = hashlib.sha256()
    in_part = 0
    with open(path, "rb") as f:
        while True:
            want = _READ_BLOCK if not part_size else min(_READ_BLOCK, part_size - in_part)
            block = f.read(want)
            if not block:
                break
            full.update(block)
            if part_size:
                part.update(block)
                in_part += len(block)
                if in_part == part_size:
                    part_digests.append(part.digest())
                    part, in_part = hashlib.sha256(), 0
    if part_size and in_part:
        part_digests.append(part.digest())
    composite = None
    if part_size:
        composite = base64.b64encode(hashlib.sha256(b"".join(part_digests)).digest()).decode("ascii")
    return LocalFile(rel, path, size, full.hexdigest(), composite, len(part_digests))


def build_manifest(out_dir: str, files: Iterable[LocalFile]) -> bytes:
    """The manifest's bytes: deterministic, so an unchanged publish gives the same bytes."""
    stats: dict[str, Any] = {}
    stats_path = os.path.join(out_dir, "stats.json")
    if os.path.exists(stats_path):
        with open(stats_path, encoding="utf-8") as f:
            loaded = json.load(f)
        stats = loaded if isinstance(loaded, dict) else {}
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "furui_version": stats.get("furui_version"),
        "config_sha256": stats.get("config_sha256"),
        "documents_out": stats.get("documents_out"),
        "files": [{"path": f.rel, "size": f.size, "sha256": f.sha256} for f in files],
    }
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str((response.get("Error") or {}).get("Code", ""))


_SHARD = re.compile(r"(?P<kind>[a-z]+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.parquet")
#: Outputs whose shard rows must add up to a count of ``stats.json``.
_COUNTED = {"documents": "documents_out", "rejects": "rejected", "clusters": None}


def check_complete(out_dir: str, rels: list[str]) -> None:
    """Refuses an output that is not one run's whole set of files.

    ``_SUCCESS`` says a run finished; it does not say the directory still holds
    what the run wrote: a copy cut short (``_SUCCESS`` sorts before
    ``documents/``), a shard deleted or one left from another run. Each of
    ``documents/``, ``rejects/`` and ``clusters/`` must hold exactly the shards
    ``0..N-1`` of one ``-of-N``; the rows of the documents and rejects shards
    (their Parquet footers) must add up to ``stats.json``'s ``documents_out`` and
    ``rejected``; and ``_SUCCESS`` must name the config of ``stats.json``.

    Raises:
        PublishError: saying what is missing or does not match.
    """
    import pyarrow.parquet as pq

    stats_path = os.path.join(out_dir, "stats.json")
    try:
        with open(stats_path, encoding="utf-8") as f:
            stats = json.load(f)
    except FileNotFoundError:
        raise PublishError(f"no stats.json in {out_dir}: the output is incomplete") from None
    except (OSError, ValueError) as exc:
        raise PublishError(f"stats.json in {out_dir} is unreadable ({type(exc).__name__}): "
                           "the output is damaged; rerun `furui run`") from None
    if not isinstance(stats, dict):
        raise PublishError(f"stats.json in {out_dir} is not a furui stats document")
    try:
        with open(os.path.join(out_dir, "_SUCCESS"), encoding="utf-8", errors="replace") as f:
            marker = f.read().split()
    except OSError as exc:
        raise PublishError(f"_SUCCESS in {out_dir} is unreadable ({type(exc).__name__})") from None
    if marker[1:2] != [stats.get("config_sha256")]:
        raise PublishError(f"_SUCCESS and stats.json in {out_dir} are from different runs (config "
                           f"{(marker[1:2] or ['?'])[0][:12]} vs {str(stats.get('config_sha256'))[:12]}): "
                           "rerun `furui run`")
    for kind, counted in _COUNTED.items():
        names = [r[len(kind) + 1:] for r in rels if r.startswith(kind + "/")]
        shards = [m for m in map(_SHARD.fullmatch, names) if m and m["kind"] == kind]
        counts = {int(m["count"]) for m in shards}
        if len(shards) != len(names) or len(counts) != 1:
            raise PublishError(f"{kind}/ in {out_dir} does not hold one run's shards ({len(names)} file(s), "
                               f"shard counts {sorted(counts) or 'none'}): rerun `furui run`")
        (count,) = counts
        indexes = {int(m["index"]) for m in shards}
        if missing := sorted(set(range(count)) - indexes):
            raise PublishError(f"{kind}/ in {out_dir} lacks {len(missing)} of its {count} shards "
                               f"(e.g. {kind}-{missing[0]:05d}-of-{count:05d}.parquet): the output is incomplete")
        if max(indexes) >= count:
            raise PublishError(f"{kind}/ in {out_dir} holds a shard index beyond its {count} shards "
                               f"({kind}-{max(indexes):05d}-of-{count:05d}.parquet): rerun `furui run`")
        if counted is None:
            continue
        try:
            rows = sum(pq.read_metadata(os.path.join(out_dir, kind, m.group(0))).num_rows for m in shards)
        except Exception as exc:  # noqa: BLE001 - a damaged footer: one line
            raise PublishError(f"a shard in {kind}/ of {out_dir} is unreadable ({type(exc).__name__}): "
                               "the output is damaged; rerun `furui run`") from None
        if rows != stats.get(counted):
            raise PublishError(f"{kind}/ in {out_dir} holds {rows:,} rows where stats.json counts "
                               f"{stats.get(counted)} ({counted}): the output is damaged; rerun `furui run`")


def _check_config(out_dir: str) -> None:
    path = os.path.join(out_dir, "config.toml")
    if not os.path.exists(path):
        return
    with open(path, "rb") as f:
        try:
            config = tomllib.load(f)
        except tomllib.TOMLDecodeError:
            return
    found = secret_paths(config)
    if found:
        # Name the keys, never the values.
        raise PublishError(
            f"config.toml holds secret-looking value(s) at {', '.join(found)}; it is published verbatim,"
            " so remove them (credentials belong in the AWS credential chain) and rerun"
        )


class _Publisher:
    def __init__(self, client, bucket: str, prefix: str, transfer_config, after_upload):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.transfer_config = transfer_config
        self.after_upload = after_upload
        self.warned_no_checksum = False

    def where(self, rel: str = "") -> str:
        return f"s3://{self.bucket}/{self.prefix}{rel}"

    def fail(self, exc: Exception, action: str) -> PublishError:
        """Maps a botocore/s3transfer error to a one-line PublishError."""
        from botocore.exceptions import EndpointConnectionError, NoCredentialsError, PartialCredentialsError

        if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
            return PublishError(
                "no AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,"
                " or run where an instance role is available)"
            )
        if isinstance(exc, EndpointConnectionError):
            return PublishError(f"cannot reach the S3 endpoint while {action}: {strip_userinfo(str(exc))}")
        code = _error_code(exc)
        if not code and exc.__cause__ is not None:
            code = _error_code(exc.__cause__)
        if not code:
            # s3transfer wraps ClientErrors in S3UploadFailedError and keeps only the text.
            for candidate in sorted(_BAD_CREDENTIALS | {"NoSuchBucket", "AccessDenied"}):
                if candidate in str(exc):
                    code = candidate
                    break
        if code in _BAD_CREDENTIALS:
            return PublishError(
                f"S3 rejected the credentials ({code}) while {action}; check the AWS credential chain"
                " (AWS_PROFILE / AWS_ACCESS_KEY_ID / instance role)"
            )
        if code in ("NoSuchBucket", "404"):
            return PublishError(f"bucket {self.bucket!r} does not exist (or is not visible at this endpoint)")
        if code in ("AccessDenied", "403", "AllAccessDisabled"):
            return PublishError(f"access denied to {self.where()} while {action}; check the credentials' permissions")
        message = strip_userinfo(str(exc).splitlines()[0]) if str(exc) else type(exc).__name__
        return PublishError(f"{action} failed: {message}")

    def preflight(self) -> None:
        """Fails fast, with a clear message, on bad credentials or a missing bucket."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            code = _error_code(exc)
            if code != "403":
                raise self.fail(exc, f"checking bucket {self.bucket!r}") from None
        except BotoCoreError as exc:
            raise self.fail(exc, f"checking bucket {self.bucket!r}") from None
        # HEAD responses carry no error code; a listing tells bad credentials
        # (InvalidAccessKeyId...) from a missing ListBucket permission.
        try:
            self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1)
        except ClientError as exc:
            if _error_code(exc) != "AccessDenied":
                raise self.fail(exc, f"checking bucket {self.bucket!r}") from None
            log.warning("cannot check bucket %r (access denied to HEAD and list); trying the uploads", self.bucket)

    def remote_sizes(self) -> dict[str, int] | None:
        """Sizes of the objects under the prefix, or None if listing is not allowed."""
        from botocore.exceptions import ClientError

        sizes: dict[str, int] = {}
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
                for obj in page.get("Contents", []):
                    sizes[obj["Key"]] = int(obj["Size"])
        except ClientError as exc:
            if _error_code(exc) == "AccessDenied":
                return None
            raise self.fail(exc, "listing the destination") from None
        return sizes

    def head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as exc:
            # 403 on a missing key when the caller lacks ListBucket: treat as absent.
            if _error_code(exc) in ("404", "NoSuchKey", "NotFound", "403"):
                return None
            raise self.fail(exc, f"checking {self.where()}") from None

    def problem(self, head: dict[str, Any] | None, local: LocalFile) -> str | None:
        """Why the remote object is not a verified copy of ``local`` (None if it is)."""
        if head is None:
            return "missing"
        if int(head.get("ContentLength", -1)) != local.size:
            return f"size {head.get('ContentLength')} != {local.size}"
        if (head.get("Metadata") or {}).get("sha256") != local.sha256:
            return "sha256 metadata differs"
        remote = head.get("ChecksumSHA256")
        if not remote:
            if not self.warned_no_checksum:
                log.warning("the store reports no SHA-256 checksums; verifying size and metadata only")
                self.warned_no_checksum = True
            return None
        value, _, parts = remote.partition("-")
        expected = {local.sha256_b64} if local.composite_b64 is None else {local.composite_b64}
        if value not in expected:
            return "server checksum differs"
        if parts and local.parts and int(parts) != local.parts:
            return f"{parts} parts != {local.parts}"
        return None

    def upload(self, local: LocalFile) -> None:
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        key = self.prefix + local.rel
        extra = {
            "ChecksumAlgorithm": "SHA256",
            "Metadata": {"sha256": local.sha256},
            "ContentType": content_type(local.rel),
        }
        try:
            self.client.upload_file(local.path, self.bucket, key, ExtraArgs=extra, Config=self.transfer_config)
        except (S3UploadFailedError, ClientError, BotoCoreError) as exc:
            raise self.fail(exc, f"uploading {local.rel}") from None
        except OSError as exc:  # the local file went away or changed (a run writing to the directory?)
            raise PublishError(f"reading {local.rel} failed during the publish ({exc.strerror or type(exc).__name__}):"
                               " publish a finished output that nothing writes to") from None
        why = self.problem(self.head(key), local)
        if why is not None:
            raise PublishError(f"verification of {self.where(local.rel)} failed after upload: {why}")

    def delete(self, keys: list[str]) -> None:
        for i in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
            try:
                resp = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys[i : i + 1000]], "Quiet": True}
                )
            except Exception as exc:  # noqa: BLE001 - mapped to a one-line error
                raise self.fail(exc, "deleting stale objects") from None
            if resp.get("Errors"):
                err = resp["Errors"][0]
                raise PublishError(f"deleting stale objects under {self.where()} failed: {err.get('Code')} "
                                   f"({len(resp['Errors'])} object(s))")

    def put_manifest(self, body: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        digest = hashlib.sha256(body)
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.prefix + MANIFEST_NAME,
                Body=body,
                ContentType="application/json",
                ChecksumSHA256=base64.b64encode(digest.digest()).decode("ascii"),
                Metadata={"sha256": digest.hexdigest()},
            )
        except (ClientError, BotoCoreError) as exc:
            raise self.fail(exc, "writing the manifest") from None


def check_endpoint_url(url: str | None, where: str) -> None:
    """Refuses an S3 endpoint that is not an ``http(s)://host[:port]`` URL or that
    embeds credentials, without echoing it (it may hold a secret).

    >>> check_endpoint_url("http://127.0.0.1:9000", "--endpoint-url")
    >>> check_endpoint_url("minio:minio123@127.0.0.1:9000", "--endpoint-url")
    Traceback (most recent call last):
    ...
    pipeline.publish.PublishError: --endpoint-url must be an http:// or https:// URL such as http://127.0.0.1:9000
    >>> check_endpoint_url("http://minio:minio123@127.0.0.1:9000", "AWS_ENDPOINT_URL")
    Traceback (most recent call last):
    ...
    pipeline.publish.PublishError: AWS_ENDPOINT_URL must not embed credentials (http://127.0.0.1:9000); use the AWS credential chain
    """
    if not url:
        return
    scheme, sep, _ = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise PublishError(f"{where} must be an http:// or https:// URL such as http://127.0.0.1:9000")
    if url_has_credentials(url):
        raise PublishError(f"{where} must not embed credentials ({strip_userinfo(url)}); use the AWS credential chain")


def publish(
    out_dir: str,
    dest: str,
    endpoint_url: str | None = None,
    *,
    multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
    multipart_chunksize: int = DEFAULT_MULTIPART_CHUNKSIZE,
    max_concurrency: int = 8,
    client: Any = None,
    after_upload: Callable[[str], None] | None = None,
    delete_stale: bool = False,
) -> PublishResult:
    """Uploads a run's output directory to ``dest`` (see the module docstring).

    Args:
        out_dir: local output directory of ``furui run``.
        dest: ``s3://bucket[/prefix]``.
        endpoint_url: S3-compatible endpoint (MinIO, R2, a local test server);
            ``None`` uses AWS (or ``AWS_ENDPOINT_URL``).
        multipart_threshold: files of at least this many bytes go up in parts.
        multipart_chunksize: part size in bytes (raised to S3's 5 MiB minimum).
        max_concurrency: parallel part uploads per file.
        client: a boto3 S3 client to use instead of building one.
        after_upload: called with each file's relative path after it is uploaded
            and verified (progress reporting; tests use it to inject failures).
        delete_stale: delete objects in the run's folders under the prefix that
            are not part of this run (warned about otherwise).

    Returns:
        What was uploaded and what was skipped.

    Raises:
        PublishError: on bad credentials, a missing bucket, a failed upload or a
            failed verification. The message is one line and holds no secret.
    """
    if not os.path.isdir(out_dir):
        raise PublishError(f"output directory not found: {out_dir}")
    bucket, prefix = parse_dest(dest)
    check_endpoint_url(endpoint_url, "--endpoint-url")
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):  # boto3 reads these when no URL is given
        check_endpoint_url(os.environ.get(var), var)
    rels = collect_files(out_dir)
    if not any(r.startswith("documents/") for r in rels):
        raise PublishError(f"no documents/ shards in {out_dir}: is it the output of `furui run`?")
    if not os.path.exists(os.path.join(out_dir, "_SUCCESS")):
        raise PublishError(f"no _SUCCESS marker in {out_dir}: the run did not finish (failed or stopped); "
                           "rerun it before publishing")
    check_complete(out_dir, rels)
    _check_config(out_dir)

    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    if client is None:
        try:
            client = boto3.session.Session().client(
                "s3",
                endpoint_url=endpoint_url,
                config=Config(retries={"max_attempts": 5, "mode": "standard"}),
            )
        except ValueError as exc:  # botocore: "Invalid endpoint: ..."
            raise PublishError(f"invalid S3 endpoint ({strip_userinfo(str(exc))})") from None
        except BotoCoreError as exc:  # the credential chain: a missing profile, a failing credential_process
            raise _Publisher(None, bucket, prefix, None, None).fail(exc, "loading the AWS credentials") from None
    transfer_config = TransferConfig(
        multipart_threshold=multipart_threshold,
        multipart_chunksize=multipart_chunksize,
        max_concurrency=max_concurrency,
    )
    pub = _Publisher(client, bucket, prefix, transfer_config, after_upload)
    pub.preflight()

    files = [hash_file(out_dir, rel, multipart_threshold, multipart_chunksize) for rel in rels]
    manifest = build_manifest(out_dir, files)
    manifest_sha = hashlib.sha256(manifest).hexdigest()
    result = PublishResult(bucket, prefix)

    remote = pub.remote_sizes()
    manifest_key = prefix + MANIFEST_NAME
    old_manifest = pub.head(manifest_key) if remote is None or manifest_key in remote else None
    manifest_current = old_manifest is not None and (old_manifest.get("Metadata") or {}).get("sha256") == manifest_sha
    if old_manifest is not None and not manifest_current:
        # The old manifest must not vouch for a mix of old and new files.
        log.info("removing the previous manifest of %s before replacing files", pub.where())
        try:
            client.delete_object(Bucket=bucket, Key=manifest_key)
        except Exception as exc:  # noqa: BLE001 - mapped to a one-line error
            raise pub.fail(exc, "removing the previous manifest") from None

    for local in files:
        key = prefix + local.rel
        head = None
        if remote is None or remote.get(key) == local.size:
            head = pub.head(key)
        why = pub.problem(head, local)
        if why is None:
            result.skipped.append(local.rel)
            log.debug("unchanged: %s", local.rel)
            continue
        log.info("uploading %s (%d bytes%s; %s)", local.rel, local.size,
                 f", {local.parts} parts" if local.parts else "", why)
        pub.upload(local)
        result.uploaded.append(local.rel)
        if after_upload is not None:
            after_upload(local.rel)

    if remote is None and delete_stale:
        log.warning("listing %s is not allowed (s3:ListBucket): stale objects were not checked or deleted",
                    pub.where())
    if remote is not None:
        mine = {prefix + f.rel for f in files}
        stale = sorted(k for k in remote if k not in mine and k[len(prefix):].startswith(_RUN_FOLDERS))
        if stale and delete_stale:
            log.info("deleting %d stale object(s) under %s", len(stale), pub.where())
            pub.delete(stale)
            result.deleted.extend(k[len(prefix):] for k in stale)
        elif stale:
            log.warning("%d object(s) in the run's folders under %s are not part of this run (e.g. %s); a reader "
                        "globbing documents/*.parquet sees them: use --delete-stale or a new prefix",
                        len(stale), pub.where(), stale[0][len(prefix):])
            result.stale.extend(k[len(prefix):] for k in stale)
    if manifest_current and not result.uploaded and not result.deleted:
        result.skipped.append(MANIFEST_NAME)
    else:
        pub.put_manifest(manifest)
        result.uploaded.append(MANIFEST_NAME)
    log.info("published %s: %d uploaded, %d unchanged", pub.where(), len(result.uploaded), len(result.skipped))
    return result


def _positive(kind: type, unit: int = 1) -> Callable[[str], Any]:
    """A parser of numbers > 0 that are finite and at least one byte once times ``unit``."""
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
        if value * unit < 1:
            raise argparse.ArgumentTypeError(f"must be at least one byte, got {text} MiB")
        if value * unit > 5 * 1024 ** 4:
            raise argparse.ArgumentTypeError(f"must be at most 5 TiB (S3's largest object), got {text}"
                                             + (" MiB" if unit != 1 else ""))
        return value

    return parse


def main_publish(argv: list[str] | None = None) -> int:
    """``furui publish OUTPUT_DIR s3://bucket/prefix``: returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="furui publish",
        description="Upload a run's output (shards, stats, card, plots, config) to S3, manifest last.",
    )
    parser.add_argument("output_dir", help="local output directory of `furui run`")
    parser.add_argument("dest", help="s3://bucket[/prefix]")
    parser.add_argument("--endpoint-url", default=None, help="S3-compatible endpoint (MinIO, R2, local)")
    parser.add_argument("--multipart-threshold-mb", type=_positive(float, MIB), default=DEFAULT_MULTIPART_THRESHOLD / MIB,
                        help="files at least this large (MiB) are uploaded in parts (default: %(default)g)")
    parser.add_argument("--multipart-chunksize-mb", type=_positive(float, MIB), default=DEFAULT_MULTIPART_CHUNKSIZE / MIB,
                        help="part size in MiB (min 5, default: %(default)g)")
    parser.add_argument("--max-concurrency", type=_positive(int), default=8,
                        help="parallel part uploads per file (default: %(default)s)")
    parser.add_argument("--delete-stale", action="store_true",
                        help="delete objects in documents/, rejects/, clusters/ and plots/ under the prefix that are "
                             "not part of this run (an earlier publish with another shard count)")
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        result = publish(
            args.output_dir,
            args.dest,
            args.endpoint_url,
            multipart_threshold=int(args.multipart_threshold_mb * MIB),
            multipart_chunksize=int(args.multipart_chunksize_mb * MIB),
            max_concurrency=args.max_concurrency,
            delete_stale=args.delete_stale,
        )
    except PublishError as exc:
        print(f"furui publish: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Files are independent objects and the manifest comes last: nothing
        # half-published is vouched for, and a rerun uploads only what is missing.
        print("furui publish: interrupted; no manifest was written for this publish. Run the same command "
              "again to resume (uploaded files are not sent twice)", file=sys.stderr)
        return 130
    print(
        f"published s3://{result.bucket}/{result.prefix}: {len(result.uploaded)} uploaded,"
        f" {len(result.skipped)} unchanged"
        + (f", {len(result.deleted)} stale deleted" if result.deleted else "")
        + f"; manifest s3://{result.bucket}/{result.manifest_key}"
    )
    if result.stale:
        print(f"furui publish: warning: {len(result.stale)} stale object(s) in the run's folders under the prefix "
              f"(e.g. {result.stale[0]}); rerun with --delete-stale or use a new prefix", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main_publish())
