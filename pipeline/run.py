"""Builds and runs the furui pipeline.

``build_pipeline`` composes the stages::

    ReadWarc -> ExtractText -> Normalize -> IdentifyLanguage -> Filter/... (incl.
    Tokenize, RedactPii, in config order) -> Dedup (loser decisions)
      -> WriteDocuments (joins documents with the decisions in its shard shuffle)
      -> WriteRejects (every stage's rejects), WriteClusters, WriteStats

and ``run`` is the ``furui run`` entry point.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import logging
import os
import re
import sys
import time
from importlib import resources, metadata
from typing import Any, Iterable

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from filters.base import ConfigError
from pipeline import report
from pipeline.card import strip_userinfo as redact_url
from pipeline.card import embeds_credentials, url_has_credentials
from pipeline.config import Config, load_config
from pipeline.extract import ExtractOptions
from pipeline.runner import DIRECT_RUNNER_NAMES, LOCAL_RUNNER, is_local
from pipeline.stages import (REJECTED, ApplySteps, ExtractText, ReadWarc, ReportProgress, batch_docs, group_steps,
                             unbatch_docs)
from pipeline.write import TMP_DIR, WriteDeduplicatedDocuments, WriteShards, join, write_atomically
from schemas import clusters as clusters_schema
from schemas import documents as documents_schema
from schemas import rejects as rejects_schema
from schemas import stats as stats_schema
from schemas.records import Doc, Reject

log = logging.getLogger("furui")

OUTPUT_KINDS = ("documents", "rejects", "clusters")


def furui_version() -> str:
    """Installed furui version ('0+unknown' when run from a source tree)."""
    try:
        return metadata.version("furui")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def sample_path() -> str:
    """Path of the bundled sample WARC."""
    return str(resources.files("pipeline") / "resources" / "sample.warc.gz")


def entries(mapping) -> list[dict[str, Any]]:
    """A mapping as sorted ``[{key, value}]`` entries (the Parquet form of scores and pii).

    >>> entries({"b": 2.0, "a": 1.0})
    [{'key': 'a', 'value': 1.0}, {'key': 'b', 'value': 2.0}]
    """
    return [{"key": k, "value": v} for k, v in sorted(mapping.items())]


def _doc_row(d: Doc) -> dict[str, Any]:
    row = d._asdict()
    row["scores"] = entries(d.scores)
    row["pii"] = entries(d.pii)
    return row


class RepeatedIds(beam.CombineFn):
    """``(id, count)`` pairs -> (documents beyond the first of their id, the smallest
    such id): two numbers per worker, for ``stats.json`` and one warning.

    >>> fn = RepeatedIds()
    >>> acc = fn.add_input(fn.add_input(fn.create_accumulator(), ("b", 3)), ("a", 1))
    >>> fn.extract_output(fn.merge_accumulators([acc, (1, "c")]))
    (3, 'b')
    """

    def create_accumulator(self):
        return (0, None)

    def add_input(self, acc, id_count):
        doc_id, n = id_count
        if n < 2:
            return acc
        return (acc[0] + n - 1, doc_id if acc[1] is None else min(acc[1], doc_id))

    def merge_accumulators(self, accs):
        extra, first = 0, None
        for n, doc_id in accs:
            extra += n
            if doc_id is not None:
                first = doc_id if first is None else min(first, doc_id)
        return (extra, first)

    def extract_output(self, acc):
        return acc


def _repeated_id_keys(repeats: tuple[int, str | None]) -> Iterable[tuple[tuple, int]]:
    """``stats.json``'s ``duplicate_ids``, and the run's one warning about them.

    >>> list(_repeated_id_keys((0, None)))
    []
    """
    extra, example = repeats
    if extra:
        log.warning("%d documents repeat another document's id (e.g. %r): document ids should be unique "
                    "within a run", extra, example)
        yield ("duplicate_ids",), extra


# Shard keys: more than the id, which is the user's and may repeat (a constant
# JSONL id field would make one shard of every row). Rows alike in all of these
# are copies of one record.
def _doc_shard_key(row: dict[str, Any]) -> str:
    from pipeline.dedup import shard_key

    return shard_key(row["id"], row["text"])


def _cluster_shard_key(row: dict[str, Any]) -> str:
    from pipeline.dedup import MEMBER_DIGEST, key_string

    return key_string((row["doc_id"], row[MEMBER_DIGEST]))


def _reject_shard_key(row: dict[str, Any]) -> str:
    """
    >>> _reject_shard_key({"id": "a", "source": "s", "url": "u", "filter": "f", "detail": "d", "n_chars": 3})
    'a\\x00s\\x00u\\x00f\\x00d\\x003'
    """
    return "\x00".join((row["id"], row["source"], row["url"], row["filter"], row["detail"], str(row["n_chars"])))


def _reject_row(r: Reject) -> dict[str, Any]:
    row = r._asdict()
    row["scores"] = entries(r.scores)
    return row


# Row sizes for shard sizing: about what the row takes in Arrow (what a shard
# writer holds), so `shard_bytes` bounds a writer's memory. A score or PII entry
# (key string + float in a list<struct>) is ~33 bytes in Arrow.
_ENTRY_BYTES = 33


def _text_size(row: dict[str, Any]) -> int:
    """A document row: UTF-8 text, ~200 bytes of other columns, its scores and PII counts.

    >>> _text_size({"text": "日本語", "scores": {"a": 1.0}, "pii": {}})
    242
    """
    entries = len(row.get("scores") or ()) + len(row.get("pii") or ())
    return len(row["text"].encode("utf-8")) + 200 + _ENTRY_BYTES * entries


def _langid_keys_of_batch(batch: list[Doc]):
    for d in batch:
        yield from report.langid_keys(d)


def _boilerplate_keys_of_batch(batch: list[Doc]):
    for d in batch:
        yield from report.boilerplate_keys(d)


def _small_size(row: dict[str, Any]) -> int:
    """A reject or cluster row: its strings, ~64 bytes of the rest, its scores.

    >>> _small_size({"id": "a", "url": "https://e.jp/", "scores": [{"key": "k", "value": 1.0}]})
    111
    >>> _small_size({"id": "記事"})  # UTF-8 bytes, as Arrow stores them
    70
    """
    strings = sum(len(v.encode("utf-8", "surrogatepass")) for v in row.values() if isinstance(v, str))
    return 64 + strings + _ENTRY_BYTES * len(row.get("scores") or ())


class _NoClusters(beam.PTransform):
    def expand(self, pbegin):
        return pbegin | beam.Create([]).with_output_types(dict)


def build_pipeline(p: beam.Pipeline, inputs: list[str], cfg: Config, out_dir: str,
                   reshuffle: bool | None = None, lists: list[tuple[str, str]] = ()) -> None:
    """Adds every furui stage to ``p``, reading ``inputs`` and the files named
    by ``lists`` (``(list path, base)``, :func:`input_lists`) and writing under ``out_dir``.

    ``reshuffle`` overrides ``[io] reshuffle`` (``run`` resolves ``"auto"``).
    """
    if reshuffle is None:
        reshuffle = cfg.io.reshuffle is True
    read = p | "ReadWarc" >> ReadWarc(inputs, cfg.io.max_payload_bytes, reshuffle,
                                      keep_truncated_pages=cfg.io.truncated_pages == "keep", lists=lists)
    extracted = read["kept"] | "ExtractText" >> ExtractText(
        ExtractOptions(cfg.extract.favor, cfg.extract.include_tables, cfg.extract.include_comments,
                       cfg.extract.join_wrapped_lines, cfg.extract.fast),
        cfg.extract.timeout_s,
        cfg.extract.isolate,
    )
    rejects = [read[REJECTED], extracted[REJECTED]]
    stat_pairs = [read["kept"] | "Stats/Records" >> beam.FlatMap(report.record_keys)]
    # The per-document steps run step-major over batches of documents (cache
    # locality, see pipeline.stages._StepsFn); one document per element again after.
    docs = batch_docs(extracted["kept"])
    steps: list[tuple[str, str]] = [("read", "read"), ("extract", "extract")]
    for label, group in group_steps(cfg.steps):
        if getattr(group[0], "corpus_wide", False):
            # Steps that need the whole run (site boilerplate): a shuffle barrier.
            from pipeline.boilerplate import ApplyCorpusSteps

            out = docs | label >> ApplyCorpusSteps(group)
            docs = out["kept"]
            rejects.append(out[REJECTED])
            steps.extend((step.stage, step.name) for step in group)
            stat_pairs.append(docs | f"Stats/{label}" >> beam.FlatMap(_boilerplate_keys_of_batch))
            continue
        out = docs | label >> ApplySteps(group, batched=True)
        docs = out["kept"]
        rejects.append(out[REJECTED])
        steps.extend((step.stage, step.name) for step in group)
        if group[-1].name == "langid":
            stat_pairs.append(docs | "Stats/LangScore" >> beam.FlatMap(_langid_keys_of_batch))
    docs = unbatch_docs(docs) | "Progress" >> ReportProgress()
    # Documents that repeat another's id (ids must be unique; a user's JSONL ids may
    # not be): counted by a lifted combine, so a constant id is no hot key.
    stat_pairs.append(docs | "Stats/Ids" >> beam.Map(lambda d: d.id)
                      | "Stats/PerId" >> beam.combiners.Count.PerElement()
                      | "Stats/Repeats" >> beam.CombineGlobally(RepeatedIds())
                      | "Stats/RepeatedIds" >> beam.FlatMap(_repeated_id_keys))
    meta = {"config_sha256": cfg.sha256, "furui_version": furui_version()}
    out_cfg = cfg.output
    common = dict(shard_bytes=out_cfg.shard_bytes, row_group_bytes=out_cfg.row_group_bytes,
                  compression=out_cfg.compression, compression_level=out_cfg.compression_level)
    if cfg.dedup.exact or cfg.dedup.near:
        from pipeline.dedup import Deduplicate

        # Dedup yields only the loser decisions; the document writer joins them
        # with the documents inside its own shard shuffle (one shuffle of pages).
        deduped = docs | "Dedup" >> Deduplicate(cfg.dedup, join=False)
        cluster_rows = deduped["clusters"]
        written = {"docs": docs, "decisions": deduped["decisions"]} | "WriteDocuments" >> WriteDeduplicatedDocuments(
            "documents", documents_schema.SCHEMA, out_dir, meta, _text_size,
            to_row=_doc_row, stat_keys=report.doc_keys, keeper=cfg.dedup.keeper, **common)
        rejects.append(written["rejected"])
        stat_pairs.append(written["stats"])
        if cfg.dedup.exact:
            steps.append(("dedup", "exact_dedup"))
        if cfg.dedup.near:
            steps.append(("dedup", "near_dedup"))
    else:
        cluster_rows = p | "NoClusters" >> _NoClusters()
        (docs | "DocRows" >> beam.Map(_doc_row)
              | "WriteDocuments" >> WriteShards("documents", documents_schema.SCHEMA, out_dir, meta,
                                                _text_size, _doc_shard_key, **common))
        stat_pairs.append(docs | "Stats/Documents" >> beam.FlatMap(report.doc_keys))
    all_rejects = rejects | "AllRejects" >> beam.Flatten()
    (all_rejects | "RejectRows" >> beam.Map(_reject_row)
                 | "WriteRejects" >> WriteShards("rejects", rejects_schema.SCHEMA, out_dir, meta,
                                                 _small_size, _reject_shard_key, **common))
    # Sharded by member, not by cluster: a page repeated 10 million times is one cluster,
    # and its rows would all be one shard, held and sorted by one worker.
    (cluster_rows | "WriteClusters" >> WriteShards("clusters", clusters_schema.SCHEMA, out_dir, meta,
                                                   _small_size, _cluster_shard_key, **common))

    stat_pairs += [
        all_rejects | "Stats/Rejects" >> beam.FlatMap(report.reject_keys),
        cluster_rows | "Stats/Clusters" >> beam.FlatMap(report.cluster_keys),
    ]
    base = {
        "furui_version": furui_version(),
        "config_sha256": cfg.sha256,
        "config_version": cfg.config_version,
        "schema_versions": report.SCHEMA_VERSIONS,
        "inputs": [redact_url(i) for i in inputs],
        "input_lists": [{"list": redact_url(path), "base": redact_url(base)} for path, base in lists],
        "filters": [
            {"name": s.name, "stage": s.stage, "thresholds": _jsonable(s.thresholds())} for s in cfg.steps
        ],
    }
    d = _jsonable(dataclasses.asdict(cfg.dedup))
    d["threshold"] = round(cfg.dedup.threshold, 4)
    base["dedup"] = d
    # The other sections' values in force: config.toml is the file as given, and a
    # key it leaves out takes the default of the furui version that ran.
    for section in ("io", "extract", "output"):
        base[section] = _jsonable(dataclasses.asdict(getattr(cfg, section)))
    (stat_pairs
     | "Stats/All" >> beam.Flatten()
     | "Stats" >> report.ComputeStats(base, steps)
     | "WriteStats" >> beam.Map(_write_stats, out_dir, meta))


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=list))


def _write_stats(stats_doc: dict[str, Any], out_dir: str, meta: dict[str, str]) -> str:
    import pyarrow as pa

    from pipeline.write import table_bytes

    write_atomically(out_dir, "stats.json", report.dumps(stats_doc).encode("utf-8"))
    schema = stats_schema.SCHEMA.with_metadata({**stats_schema.SCHEMA.metadata, **meta})
    table = pa.Table.from_pylist(report.stats_rows(stats_doc), schema=schema)
    write_atomically(out_dir, "stats.parquet", table_bytes(table, schema, "zstd", 3, 100_000))
    return out_dir


# ---------------------------------------------------------------------------
# furui run


class UsageError(Exception):
    """A user mistake reported as one line with a non-zero exit code."""


def default_runner_args(beam_args: list[str]) -> list[str]:
    """Adds an explicit local runner unless the user chose another one.

    The local runner is :class:`pipeline.runner.LocalRunner`: Beam's FnApiRunner,
    which is what the DirectRunner runs batch pipelines on, without the
    DirectRunner's first attempt to download and start Prism from github.com.
    ``--runner=DirectRunner`` (or its other names) is mapped to it. Whichever way
    the local runner is chosen (no ``--runner``, DirectRunner, or the class path),
    it runs in multi-processing mode with one worker per CPU unless
    ``--direct_running_mode`` / ``--direct_num_workers`` say otherwise, so
    ``--runner=DirectRunner`` behaves exactly as no ``--runner``.

    >>> default_runner_args(["--runner=DirectRunner", "--direct_running_mode=in_memory",
    ...                      "--direct_num_workers=1"])
    ['--runner=pipeline.runner.LocalRunner', '--direct_running_mode=in_memory', '--direct_num_workers=1', '--default_sdk_harness_log_level=WARNING']
    >>> default_runner_args(["--direct_running_mode=in_memory"])[1]
    '--direct_num_workers=1'
    >>> default_runner_args(["--runner", "FlinkRunner"])
    ['--runner=FlinkRunner']
    """
    out, runner, i = [], None, 0
    while i < len(beam_args):
        a = beam_args[i]
        if a == "--runner" and i + 1 < len(beam_args):
            a, i = f"--runner={beam_args[i + 1]}", i + 1
        if a.startswith("--runner="):
            runner = a.split("=", 1)[1]
            if runner in DIRECT_RUNNER_NAMES:
                runner = LOCAL_RUNNER
                a = f"--runner={LOCAL_RUNNER}"
        out.append(a)
        i += 1
    if runner is not None and runner != LOCAL_RUNNER:
        return out
    defaults = []
    if not any(a.startswith("--direct_running_mode") for a in out):
        defaults.append("--direct_running_mode=multi_processing")
    if not any(a.startswith("--direct_num_workers") for a in out):
        # in_memory runs one worker (Beam warns when told otherwise); the other modes one per CPU.
        in_memory = "--direct_running_mode=in_memory" in out  # split_beam_values joined "--opt value"
        defaults.append(f"--direct_num_workers={1 if in_memory else os.cpu_count() or 1}")
    if not any(a.startswith("--default_sdk_harness_log_level") for a in out):
        # Worker processes otherwise log every bundle at INFO.
        defaults.append("--default_sdk_harness_log_level=WARNING")
    if runner is None:
        return [f"--runner={LOCAL_RUNNER}", *defaults, *out]
    return out + defaults


def expand_inputs(inputs: list[str]) -> list[str]:
    """A directory stands for every file under it: ``dir`` -> ``dir/**``.

    Local directories are recognised as such; a remote path ending in ``/``
    (``s3://bucket/crawl/``) is taken as a directory too.

    >>> expand_inputs(["s3://b/crawl/", "a.warc.gz"])
    ['s3://b/crawl/**', 'a.warc.gz']
    """
    from pipeline.input_lists import directory_pattern

    return [directory_pattern(pattern) for pattern in inputs]


def check_urls(inputs: list[str], output: str, others: Iterable[tuple[str, str]] = ()) -> None:
    """Refuses input or output paths that are not UTF-8, and credentials written into
    URLs (``s3://KEY:SECRET@bucket``).

    They would be echoed by every error and log line that names the path, and
    ``KEY:SECRET@bucket`` is not a bucket name: Beam retries such a path for minutes.
    """
    for where, url in [*(("input", i) for i in inputs), ("output", output), *others]:
        try:
            url.encode("utf-8")
        except UnicodeEncodeError:
            # Beam carries patterns as UTF-8 text. Files with such names found under a
            # directory given as input are read (they travel as bytes); the argument
            # itself cannot be.
            raise UsageError(f"the {where} path {url.encode('utf-8', 'surrogateescape')!r} is not valid UTF-8: "
                             "rename it, or give a directory above it") from None
        # Only the authority (or a presigned query) can hold credentials: "@" or ":"
        # later in a key is legal (s3://bucket/2024-05-01T12:00:00Z/page@2x.warc.gz).
        if embeds_credentials(url):
            raise UsageError(f"the {where} URL {redact_url(url)} embeds credentials; use the storage's own "
                             "credential chain (AWS_PROFILE, instance roles...)")
        check_gcs_bucket(url, f"the {where}")


def check_option_urls(beam_args: list[str]) -> None:
    """Refuses credentials written into a URL-valued Beam option (``--s3_endpoint_url=
    http://KEY:SECRET@host``): Beam echoes the endpoint in every retry warning, and
    such an endpoint never connects (it retried for minutes).

    >>> check_option_urls(["--s3_endpoint_url=http://127.0.0.1:9000", "--runner=x"])
    >>> check_option_urls(["--s3_endpoint_url=http://minio:minio123@127.0.0.1:9000"])
    Traceback (most recent call last):
    ...
    pipeline.run.UsageError: --s3_endpoint_url embeds credentials (http://127.0.0.1:9000); use the storage's own credential chain (--s3_access_key_id/--s3_secret_access_key, AWS_PROFILE, instance roles...)
    """
    for arg in beam_args:
        name, sep, value = arg.partition("=")
        if sep and "://" in value and url_has_credentials(value):
            raise UsageError(f"{name} embeds credentials ({redact_url(value)}); use the storage's own credential "
                             "chain (--s3_access_key_id/--s3_secret_access_key, AWS_PROFILE, instance roles...)")
        check_gcs_bucket(value, name)


_GCS_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")


def check_gcs_bucket(value: str, what: str) -> None:
    """Refuses a ``gs://`` URL whose bucket name GCS cannot have (``gs://BUCKET/tmp``
    copied from the docs): Beam rejects the name, then looks for credentials and
    tries to create a default bucket, which hangs offline.

    >>> check_gcs_bucket("gs://my-bucket/tmp", "--temp_location")
    >>> check_gcs_bucket("gs://BUCKET/tmp", "--temp_location")
    Traceback (most recent call last):
    ...
    pipeline.run.UsageError: --temp_location: 'BUCKET' is not a GCS bucket name (3-222 lowercase letters, digits, '-', '_' or '.'): put your bucket's name in gs://BUCKET/tmp
    """
    if not value.startswith("gs://"):
        return
    bucket = value[5:].split("/", 1)[0]
    if not _GCS_BUCKET.fullmatch(bucket):
        raise UsageError(f"{what}: {bucket!r} is not a GCS bucket name (3-222 lowercase letters, digits, '-', '_' "
                         f"or '.'): put your bucket's name in {redact_url(value)}")


def check_inputs(inputs: list[str]) -> None:
    """Fails fast, in the driver, when an input pattern matches nothing."""
    for pattern in inputs:
        try:
            result = FileSystems.match([pattern])[0]
        except Exception as exc:
            raise UsageError(f"cannot list input {redact_url(pattern)}: {redact_url(str(exc))}") from exc
        if not result.metadata_list:
            if pattern.endswith("/**"):  # a directory given as input (expand_inputs)
                raise UsageError(f"no files in the input directory {redact_url(pattern[:-3])}")
            raise UsageError(f"input not found: {redact_url(pattern)}")


def input_lists(paths: list[str], prefix: str | None) -> list[tuple[str, str]]:
    """``--inputs-from`` lists as ``(list path, base)``: where each list's relative
    lines are (``--input-prefix``, or the list's directory). A local list is
    named by its absolute path, so workers started elsewhere find it.

    >>> input_lists(["s3://b/crawl/warc.paths.gz"], None)
    [('s3://b/crawl/warc.paths.gz', 's3://b/crawl')]
    >>> input_lists(["s3://b/crawl/warc.paths.gz"], "s3://commoncrawl/")
    [('s3://b/crawl/warc.paths.gz', 's3://commoncrawl/')]
    """
    from pipeline.input_lists import list_base

    if prefix is not None and not prefix.strip():
        raise UsageError("--input-prefix is empty")
    if prefix is not None and not paths:
        raise UsageError("--input-prefix applies to --inputs-from lists, and none is given")
    out = []
    for path in paths:
        if not path.strip():
            raise UsageError("--inputs-from needs a file")
        path = path if "://" in path else os.path.abspath(path)
        pair = (path, list_base(path, prefix))
        if pair not in out:  # a list given twice is read once
            out.append(pair)
    return out


def check_input_lists(lists: list[tuple[str, str]]) -> None:
    """Fails fast, in the driver, when an input list is missing, empty or does not
    start like a list of paths (a WARC given by mistake). Only its start is read:
    the workers read the rest."""
    from apache_beam.io.filesystem import CompressionTypes

    from pipeline.input_lists import decompressed, iter_entries

    for path, _ in lists:
        shown = redact_url(path)
        if "://" not in path:
            import stat

            try:
                mode = os.stat(path).st_mode
            except OSError as exc:
                raise UsageError(f"cannot read the input list {shown}: {exc.strerror or exc}") from None
            if not stat.S_ISREG(mode):
                # A pipe (<(zcat warc.paths.gz), /dev/stdin) can be read once: this check
                # would take the entries the workers then miss.
                what = "a directory" if stat.S_ISDIR(mode) else "a pipe or a device, which can be read only once"
                raise UsageError(f"the input list {shown} is not a regular file but {what}: give a file of "
                                 "input paths")
        try:
            with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as fh:
                first = next(iter_entries(_Limited(decompressed(path, fh), _LIST_CHECK_BYTES)), None)
        except Exception as exc:  # noqa: BLE001 - any storage or decompression error
            raise UsageError(f"cannot read the input list {shown}: "
                             f"{redact_url(f'{type(exc).__name__}: {exc}')}") from None
        if first is None:
            raise UsageError(f"the input list {shown} names no input in its first {_LIST_CHECK_BYTES >> 20} MiB "
                             "(blank lines and # comments only)")
        line, entry, problem = first
        if entry is None:
            raise UsageError(f"the input list {shown}, line {line}: {problem}: give a text file with one input "
                             "path or glob per line")
        if _DATA_START.match(entry):
            raise UsageError(f"the input list {shown} starts like a crawl file ({entry[:40]!r}), not a list of "
                             "paths: give it as an input, without --inputs-from")


# How WARC, ARC, HTML and JSONL files start (pipeline.readers); a path does not
# ("WARC/2024/a.warc.gz" and "{a,b}.warc" are paths).
_DATA_START = re.compile(r'WARC/\d+\.\d+$|filedesc://|<[!?A-Za-z]|\{\s*"|\{\s*$')
_LIST_CHECK_BYTES = 1 << 20  # the most of a list the driver reads, looking for its first entry


class _Limited:
    """The first ``n`` bytes of a binary reader."""

    def __init__(self, fh, n: int):
        self.fh, self.left = fh, n

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = self.fh.read(size) if size else b""
        self.left -= len(data)
        return data


def resolve_reshuffle(setting: bool | str, options: PipelineOptions) -> bool:
    """``[io] reshuffle = "auto"``: a local run with more than one worker process or thread.

    The local runner splits a stage's input elements between its workers, so
    without a reshuffle each *file* is read, extracted and filtered by one
    worker; files of different sizes then leave a worker idle at the end.
    Measured (bench/RESULTS-e2e.md, 2 workers, 22 WARCs of 19 KB-895 KB): 18.6 s
    without, 16.5 s with the record reshuffle, at the same CPU time. On a
    distributed runner the input is thousands of files and a shuffle of raw
    pages would cost one more write and read of every page: ``auto`` is false.

    >>> opts = PipelineOptions(["--runner=DirectRunner", "--direct_running_mode=multi_processing",
    ...                         "--direct_num_workers=4"])
    >>> resolve_reshuffle("auto", opts), resolve_reshuffle(False, opts)
    (True, False)
    >>> resolve_reshuffle("auto", PipelineOptions(["--runner=DirectRunner", "--direct_running_mode=in_memory"]))
    False
    >>> resolve_reshuffle("auto", PipelineOptions(["--runner=FlinkRunner"]))
    False
    """
    if setting != "auto":
        return bool(setting)
    opts = options.get_all_options()
    if not is_local(opts.get("runner")):
        return False
    if opts.get("direct_running_mode") in (None, "in_memory"):
        return False
    workers = int(opts.get("direct_num_workers") or 1)
    return (workers if workers > 0 else (os.cpu_count() or 1)) > 1


def prepare_output(out_dir: str) -> None:
    """Creates the output directory, checks it is writable, clears a previous run's files."""
    if not out_dir.strip():
        raise UsageError("--output is empty")
    if "://" not in out_dir:
        if os.path.exists(out_dir) and not os.path.isdir(out_dir):
            raise UsageError(f"--output {out_dir} is a file, not a directory")
        try:
            os.makedirs(out_dir, exist_ok=True)
            probe = os.path.join(out_dir, ".furui-write-test")
            with open(probe, "w") as fh:
                fh.write("ok")
            os.remove(probe)
        except OSError as exc:
            raise UsageError(f"output directory not writable: {out_dir}: {exc.strerror or exc}") from exc
    # The success marker goes first, on its own: a run stopped while the rest is
    # deleted must not leave a marker next to half of the previous shards.
    marker = join(out_dir, "_SUCCESS")
    previous_run = FileSystems.exists(marker) or FileSystems.exists(join(out_dir, "stats.json"))
    readme = join(out_dir, "README.md")
    if not previous_run and FileSystems.exists(readme) and not _is_furui_card(readme):
        # The run ends by writing its dataset card there.
        raise UsageError(f"{redact_url(out_dir)} holds a README.md that is not a furui dataset card; the run "
                         "would replace it: choose a new or empty output directory")
    if previous_run:
        log.info("replacing the previous run in %s: its files are removed now", redact_url(out_dir))
    if FileSystems.exists(marker):
        FileSystems.delete([marker])
    old: list[str] = []
    if previous_run:  # its card and plots describe it, not the run to come
        old += [m.path for m in FileSystems.match([join(out_dir, "plots", "*")])[0].metadata_list]
        if FileSystems.exists(join(out_dir, "README.md")):
            old.append(join(out_dir, "README.md"))
    for kind in OUTPUT_KINDS:
        for m in FileSystems.match([join(out_dir, kind, f"{kind}-*.parquet")])[0].metadata_list:
            old.append(m.path)
    for name in ("stats.json", "stats.parquet", "config.toml"):
        if FileSystems.exists(join(out_dir, name)):
            old.append(join(out_dir, name))
    if old:
        FileSystems.delete(old)


def _is_furui_card(path: str) -> bool:
    """Whether ``path`` starts like a card furui wrote (its front matter tags ``furui``)."""
    try:
        with FileSystems.open(path) as fh:
            head = fh.read(4096).decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - unreadable: not ours to overwrite
        return False
    return head.startswith("---\n") and "\n- furui\n" in head


def finish_output(out_dir: str, cfg: Config) -> dict[str, Any]:
    """Writes the config copy and clears temp files; returns the stats.

    The success marker comes later (:func:`mark_success`), after the card.
    """
    write_atomically(out_dir, "config.toml", cfg.text.encode("utf-8"))
    with FileSystems.open(join(out_dir, "stats.json")) as fh:
        stats_doc = json.loads(fh.read().decode("utf-8"))
    _clear_tmp(out_dir)
    return stats_doc


def _clear_tmp(out_dir: str) -> None:
    """Deletes the temp files of failed or duplicate write attempts (each attempt
    has its own name) and the temp directory. Object stores have no directories:
    list the prefix, then delete what is left."""
    tmp = join(out_dir, TMP_DIR)
    left = [m.path for m in FileSystems.match([join(tmp, "*")])[0].metadata_list]
    if left:
        FileSystems.delete(left)
    if FileSystems.exists(tmp):
        FileSystems.delete([tmp])


def mark_success(out_dir: str, cfg: Config) -> None:
    """Writes ``_SUCCESS``, the last file of a run: every output, card included,
    is in place and every record is accounted for."""
    # Not empty: object stores refuse a multipart upload of zero parts.
    write_atomically(out_dir, "_SUCCESS", f"config_sha256 {cfg.sha256}\n".encode())
    _clear_tmp(out_dir)  # the marker's own temp name


RUN_OPTIONS = ("--output", "--config", "--inputs-from", "--input-prefix")


@functools.lru_cache(maxsize=1)
def _beam_parser():
    """An argument parser with every Beam option (as ``PipelineOptions.get_all_options``
    builds it; ~15 ms, so once per process), or None if Beam has none."""
    try:
        from apache_beam.options.pipeline_options import _BeamArgumentParser
    except ImportError:  # pragma: no cover - a Beam without it: leave it to Beam
        return None
    parser = _BeamArgumentParser(allow_abbrev=False)
    for cls in {str(c): c for c in PipelineOptions.__subclasses__()}.values():
        cls._add_argparse_args(parser)  # noqa: SLF001 - as PipelineOptions.get_all_options does

    def error(message: str):  # one line, not argparse's usage dump and exit
        raise UsageError(f"Beam option: {message}")

    parser.error = error
    return parser


def split_beam_values(argv: list[str]) -> list[str]:
    """Joins a Beam option and its separate value (``--direct_num_workers 2`` ->
    ``--direct_num_workers=2``), so the value is not taken for an input file.

    >>> split_beam_values(["in.warc.gz", "--direct_num_workers", "2", "--output", "o"])
    ['in.warc.gz', '--direct_num_workers=2', '--output', 'o']
    """
    parser = _beam_parser()
    if parser is None:
        return argv
    out: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        action = parser._option_string_actions.get(tok)  # noqa: SLF001
        takes_value = action is not None and action.nargs is None and action.option_strings and action.const is None
        following = argv[i + 1] if i + 1 < len(argv) else ""
        if takes_value and following and (not following.startswith("-") or _is_number(following)):
            out.append(f"{tok}={argv[i + 1]}")
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_options(beam_args: list[str], strict: bool | None = None) -> None:
    """Refuses options that neither furui nor Beam knows, on the local runner, and
    Beam options without their value (one line instead of Beam's usage text).

    Beam only warns about them and runs on: ``--confg my.toml`` would run with
    the default config and read ``my.toml`` as an input. Other runners register
    options of their own when the job is submitted (Flink's job server, Dask),
    so there only a near miss of a furui option (``--confg``) is refused.
    ``strict`` forces the local rule (True) or the other (False).
    """
    import difflib

    parser = _beam_parser()
    if parser is None:
        return
    known_args, unknown = parser.parse_known_args(beam_args)
    local = is_local(getattr(known_args, "runner", None)) if strict is None else strict
    for arg in (a for a in unknown if a.startswith("-")):
        name = arg.split("=", 1)[0]
        mine = difflib.get_close_matches(name, RUN_OPTIONS, n=1, cutoff=0.75)
        if mine:
            raise UsageError(f"unknown option {name} (did you mean {mine[0]}?)")
        if local:
            known = [o for action in parser._actions for o in action.option_strings]  # noqa: SLF001
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise UsageError(f"unknown option {name}{hint}: not a furui or Apache Beam option")


#: Runners that start a Java job server from a jar, and the option that names the jar.
#: Without it Beam downloads the jar from Maven Central when the job starts.
_JOB_SERVER_JAR_OPTION = {"FlinkRunner": "flink_job_server_jar", "SparkRunner": "spark_job_server_jar"}


def check_runner(runner: str, options: dict | None = None) -> None:
    """Fails before the output is touched when ``--runner`` names no runner, or
    names a runner that would download its job server at run time.

    Beam's FlinkRunner and SparkRunner start a Java job server; unless
    ``--flink_job_server_jar`` (``--spark_job_server_jar``) names one or
    ``--job_endpoint`` points at a running one, Beam downloads the jar from Maven
    Central after the output has been cleared. furui downloads nothing at run
    time: offline that was a traceback and an empty output directory, and Beam
    2.77.0's Flink job server is not published there anyway.

    >>> check_runner("FlinkRunner", {"flink_master": "[local]"})
    Traceback (most recent call last):
    ...
    pipeline.run.UsageError: FlinkRunner needs a job server: pass --flink_job_server_jar=PATH (JAR=$(scripts/fetch_flink_jobserver.sh) fetches one) or --job_endpoint=HOST:PORT of a running job server; furui does not let Beam download one while the job starts
    >>> check_runner("FlinkRunner", {"job_endpoint": "localhost:8099"})
    """
    from apache_beam.runners.runner import create_runner

    try:
        runner_obj = create_runner(runner)
    except (ValueError, ImportError) as exc:
        raise UsageError(str(exc).split(" Valid values are")[0]) from exc
    opts = options or {}
    jar_option = _JOB_SERVER_JAR_OPTION.get(type(runner_obj).__name__)
    if jar_option is None or opts.get("job_endpoint"):
        return
    jar = opts.get(jar_option)
    if not jar:
        fetch = " (JAR=$(scripts/fetch_flink_jobserver.sh) fetches one)" if jar_option.startswith("flink") else ""
        raise UsageError(
            f"{type(runner_obj).__name__} needs a job server: pass --{jar_option}=PATH{fetch} or "
            "--job_endpoint=HOST:PORT of a running job server; furui does not let Beam download one "
            "while the job starts")
    if "://" not in jar and not os.path.isfile(jar):
        raise UsageError(f"--{jar_option}: no such file: {jar}")


def _honours_dry_run(runner: str | None) -> bool:
    """Whether Beam's ``runner`` stops at ``--dry_run`` (builds the job, submits
    nothing): only the DataflowRunner does, by whatever name Beam takes for it
    (``dataflow``, ``DataflowRunner``...).

    >>> _honours_dry_run("DataflowRunner"), _honours_dry_run("dataflow"), _honours_dry_run(None)
    (True, True, False)
    >>> _honours_dry_run("FlinkRunner")
    False
    """
    if not runner:
        return False
    name = str(runner).rsplit(".", 1)[-1].lower()
    return name in ("dataflow", "dataflowrunner", "testdataflowrunner")


def dry_run_value(value: Any) -> bool:
    """Beam's ``--dry_run`` as furui reads it: the option is a string, and Beam
    takes any value, ``"False"`` included, as true.

    >>> dry_run_value("True"), dry_run_value("False"), dry_run_value(None)
    (True, False, False)
    """
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("", "false", "0", "no", "off"):
            return False
        if word in ("true", "1", "yes", "on"):
            return True
        raise UsageError(f"--dry_run={value}: give True or False")
    return bool(value)


def check_resources(cfg: Config) -> None:
    """Checks that every step's model, dictionary and list files exist on this machine."""
    for step in cfg.steps:
        try:
            step.check()
        except (OSError, ValueError) as exc:  # missing, unreadable, or present and unusable
            raise UsageError(f"step {step.name!r}: {exc}") from exc


def parse_run_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="furui run",
        description="Run the furui pipeline: WARC/WET/ARC/JSONL/HTML in, Parquet + stats + card out. "
        "Unrecognised --options are passed to Apache Beam (e.g. --runner, --direct_num_workers).",
    )
    parser.add_argument("inputs", nargs="*", help="input files, globs or directories (any Beam filesystem); default: "
                        "the bundled sample, unless --inputs-from is given")
    parser.add_argument("--inputs-from", action="append", default=[], metavar="LIST",
                        help="a file naming inputs, one path, glob or directory per line (.gz/.bz2 allowed; read by "
                        "the workers, "
                        "e.g. Common Crawl's warc.paths.gz); repeatable")
    parser.add_argument("--input-prefix", default=None, metavar="PREFIX",
                        help="where the relative lines of --inputs-from lists are (e.g. s3://commoncrawl/); "
                        "default: each list's own directory")
    parser.add_argument("--output", "-o", required=True,
                        help="output directory (local, s3://, gs://); a rerun replaces the previous run in it")
    parser.add_argument("--config", "-c", default=None, help="TOML config (default: bundled pipeline/configs/default.toml)")
    # Every other option goes to Beam (split_beam_values has joined Beam's options
    # with their values), and a bare word is an input wherever it stands:
    # "a.warc --direct_num_workers=2 b.warc" reads both files (argparse alone would
    # hand b.warc to Beam, which discards it).
    # Inputs are collected here, not by argparse: it takes one run of positionals
    # only, so "a.jsonl --output OUT b.html" was an error.
    mine: list[str] = []
    inputs: list[str] = []
    beam: list[str] = []
    takes_value = {"-o", "--output", "-c", "--config", "--inputs-from", "--input-prefix"}
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok in takes_value:
            mine += argv[i : i + 2]
            i += 2
            continue
        short = tok[:2] in ("-o", "-c", "-h") and not tok.startswith("--")  # -oOUT, -h
        if not tok.startswith("-"):
            inputs.append(tok)
        elif tok.startswith(("--output=", "--config=", "--inputs-from=", "--input-prefix=")) or short \
                or tok == "--help":
            mine.append(tok)
        else:
            beam.append(tok)
        i += 1
    args = parser.parse_args(mine)
    args.inputs = inputs
    return args, beam


class RunInterrupted(Exception):
    """Ctrl-C during ``furui run``; the message says what state the output is in."""


def interrupted_by(exc: BaseException | None) -> bool:
    """Whether ``exc`` is, or was raised while handling, a ``KeyboardInterrupt``
    (Beam re-raises one from inside a DoFn as a ``RuntimeError``).

    >>> try:
    ...     try:
    ...         raise KeyboardInterrupt
    ...     except KeyboardInterrupt:
    ...         raise RuntimeError("KeyboardInterrupt [while running 'Extract']")
    ... except RuntimeError as e:
    ...     interrupted_by(e), interrupted_by(ValueError("x"))
    (True, False)
    """
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        todo += [e.__cause__, e.__context__]
    return False


def interrupt_message(out_dir: str, phase: str, runner: str | None) -> str:
    """What an interrupted run leaves behind, for the one line the CLI prints.

    ``phase``: ``start`` (nothing written yet), ``preparing`` (a previous
    run's output is being cleared), ``running`` (the pipeline runs or was
    submitted) or ``finishing`` (the pipeline finished; stats, marker and card
    are written).
    """
    out = redact_url(out_dir)
    if phase == "start":
        return "interrupted before anything was written"
    if phase == "preparing":
        return f"interrupted while clearing the previous output; {out} is incomplete (no _SUCCESS marker)"
    if phase == "running" and not is_local(runner):
        return (f"interrupted while waiting for the job on {runner}; the job may still be running "
                "there: check it, and cancel it with that runner's own tools")
    try:
        complete = FileSystems.exists(join(out_dir, "_SUCCESS"))
    except Exception:  # noqa: BLE001 - the message must not fail
        complete = False
    if complete:
        return f"interrupted after the output was complete ({out})"
    if phase == "finishing":
        return (f"interrupted while finishing; {out} has its data but no _SUCCESS marker: "
                "rerun to complete it")
    return f"interrupted; {out} is incomplete (no _SUCCESS marker)"


def run(argv: list[str] | None = None, interrupted=lambda: False) -> int:
    """``furui run``: returns the process exit code.

    ``interrupted()`` tells whether the user has pressed Ctrl-C (the CLI's
    SIGINT handler), for an error that lost its ``KeyboardInterrupt`` context.

    Raises:
        RunInterrupted: on Ctrl-C (a ``KeyboardInterrupt`` anywhere in the run),
            with a message that says what state the output is in.
    """
    args, beam_args = parse_run_args(split_beam_values(list(sys.argv[1:] if argv is None else argv)))
    phase, runner = "start", None
    try:
        try:
            cfg = load_config(args.config)
            inputs = expand_inputs(args.inputs or ([] if args.inputs_from else [sample_path()]))
            # A scheme-only prefix (gs://) names no bucket: its lines do.
            prefix = args.input_prefix
            named = [("--input-prefix", prefix)] if prefix and not prefix.endswith("://") else []
            check_urls(inputs, args.output, [*(("--inputs-from", x) for x in args.inputs_from), *named])
            lists = input_lists(args.inputs_from, args.input_prefix)
            beam_args = default_runner_args(beam_args)
            check_options(beam_args)
            check_option_urls(beam_args)
            options = PipelineOptions(beam_args)
            dry_run = dry_run_value(options.get_all_options().get("dry_run"))
            if not dry_run and any(a.startswith("--dry_run") for a in beam_args):
                # --dry_run=False: not passed on, since Beam's Dataflow runner takes any value as true.
                beam_args = [a for a in beam_args if not a.startswith("--dry_run")]
                options = PipelineOptions(beam_args)
            runner = options.get_all_options().get("runner")
            if is_local(runner):  # remote workers may see other paths than this machine
                check_resources(cfg)
            else:
                check_runner(runner, options.get_all_options())
            # The driver lists inputs and prepares the output itself: give the
            # filesystems (s3://, gs://) the same options the workers get.
            FileSystems.set_options(options)
            if not dry_run:  # a dry run only builds the job: it touches no data
                check_inputs(inputs)
                check_input_lists(lists)
                phase = "preparing"
                prepare_output(args.output)
                phase = "running"
            reshuffle = resolve_reshuffle(cfg.io.reshuffle, options) if not dry_run else cfg.io.reshuffle is True
        except (ConfigError, UsageError) as exc:
            print(f"furui: error: {exc}", file=sys.stderr)
            return 2
        return _run_pipeline(args, cfg, inputs, options, reshuffle, dry_run, lists)
    except BaseException as exc:
        if not (interrupted_by(exc) or interrupted()):
            raise
        try:
            if phase == "running" and FileSystems.exists(join(args.output, "stats.json")):
                phase = "finishing"
        except Exception:  # noqa: BLE001 - reporting the interrupt must not fail
            pass
        raise RunInterrupted(interrupt_message(args.output, phase, runner)) from None


def _run_pipeline(args, cfg: Config, inputs: list[str], options: PipelineOptions, reshuffle: bool,
                  dry_run: bool, lists: list[tuple[str, str]] = ()) -> int:
    started = time.monotonic()
    log.info("furui %s: %d input pattern(s)%s -> %s (config %s)", furui_version(), len(inputs),
             f" and {len(lists)} input list(s)" if lists else "", redact_url(args.output), cfg.sha256[:12])
    if cfg.dedup.near:
        log.info("dedup: %d bands x %d rows, implied Jaccard threshold %.3f",
                 cfg.dedup.bands, cfg.dedup.rows, cfg.dedup.threshold)
    if not (cfg.dedup.exact and cfg.dedup.near):
        log.warning("dedup: %s off by config", "exact and near passes" if not (cfg.dedup.exact or cfg.dedup.near)
                    else "exact pass" if not cfg.dedup.exact else "near pass")
    p = beam.Pipeline(options=options)
    build_pipeline(p, inputs, cfg, args.output, reshuffle, lists)
    if dry_run and not _honours_dry_run(options.get_all_options().get("runner")):
        # Only Dataflow stops a job at --dry_run; the local and portable runners ran it
        # whole (documents written into an output that prepare_output had not cleared).
        p.to_runner_api()  # translated, as a runner would, to surface its errors
        print("dry run: the job was built and not run")
        return 0
    result = p.run()
    if dry_run:
        print("dry run: the job was built and not submitted")
        return 0
    result.wait_until_finish()
    stats_doc = finish_output(args.output, cfg)
    elapsed = time.monotonic() - started
    # Worker time per step (Beam counters; not in stats.json, which is deterministic).
    print(report.format_funnel(stats_doc, report.step_times(result)))
    print(f"wall time: {elapsed:.1f}s  ({stats_doc['records_in'] / max(elapsed, 1e-9):.1f} records/s)")
    if cfg.output.card:
        from pipeline.card import write_card

        try:
            print(f"dataset card: {redact_url(write_card(args.output))}")
        except Exception as exc:  # noqa: BLE001 - the data is complete: never lose a run to its card
            log.exception("dataset card failed")
            print(f"furui: warning: the dataset card could not be written ({type(exc).__name__}: "
                  f"{redact_url(str(exc))[:300]}); the data is complete: `furui card {redact_url(args.output)}` "
                  "writes it", file=sys.stderr)
    if not stats_doc["accounted"]:
        # No _SUCCESS: furui publish refuses the output, readers see it unfinished.
        print("furui: error: accounting invariant violated (records in != documents + rejects); "
              "the output has no _SUCCESS marker", file=sys.stderr)
        return 1
    mark_success(args.output, cfg)
    return 0
