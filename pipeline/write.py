"""Deterministic, size-targeted, atomically committed Parquet shards.

``WriteShards`` turns a PCollection of records into
``<out>/<kind>/<kind>-00000-of-0000N.parquet``:

1. The rows and their payload size are summed (a combiner: two numbers leave each
   worker) and give the shard count ``N = ceil(total / shard_bytes)``, at most
   one per row.
2. Each record goes to shard ``hash(key) mod N`` (a stable hash, not Python's)
   of a key that is more than the user's id, which may repeat (``pipeline.run``:
   documents and cluster rows by id and text digest, rejects by id, source,
   URL, filter, detail and length).
3. One ``GroupByKey`` gathers a shard on one worker, which sorts it by ``id``
   (cluster rows by ``cluster_id``, ``doc_id``)
   and writes it with fixed writer options. Every index ``0..N-1`` is written,
   empty if no record hashes to it, so ``-of-N`` always means N files. Same input + same config gives the
   same rows in the same order in the same shard: byte-identical files.
4. The file is written under ``<out>/.furui-tmp/`` and renamed into place only
   when complete, so a killed run never leaves a partial file under a final
   name. Each attempt has its own temp name, so a retry racing a slow attempt
   of the same bundle cannot take or delete the other's file.

Memory per worker is bounded by one shard (``shard_bytes`` of payload), never
by the corpus. ``WriteDeduplicatedDocuments`` does the same for documents and
also routes them by their dedup decisions in that same shuffle.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import posixpath
import uuid
from typing import Any, Callable, Iterator

import apache_beam as beam
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from pipeline.card import content_type

TMP_DIR = ".furui-tmp"


def shard_of(key: str, n_shards: int) -> int:
    """Stable shard index of ``key`` (independent of process and hash seed).

    >>> shard_of("doc-1", 4) == shard_of("doc-1", 4)
    True
    """
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % n_shards


def shard_name(kind: str, index: int, count: int) -> str:
    """``documents-00003-of-00012.parquet``."""
    return f"{kind}-{index:05d}-of-{count:05d}.parquet"


def join(base: str, *parts: str) -> str:
    """Joins paths for local and ``scheme://`` locations alike."""
    if "://" in base:
        return posixpath.join(base, *parts)
    return os.path.join(base, *parts)


def table_bytes(table: pa.Table, schema: pa.Schema, compression: str, level: int | None,
                rows_per_group: int) -> bytes:
    """Serialises ``table`` to Parquet bytes with fixed, deterministic options."""
    sink = io.BytesIO()
    pq.write_table(
        table,
        sink,
        compression=compression,
        compression_level=level,
        row_group_size=max(1, rows_per_group),
        use_dictionary=True,
        write_statistics=True,
        store_schema=True,
    )
    return sink.getvalue()


def _ensure_parent(path: str) -> None:
    # Object stores have no directories; local filesystems need them.
    if "://" not in path:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)


def write_atomically(out_dir: str, rel_path: str, data: bytes) -> str:
    """Writes ``data`` to a temp name under ``out_dir`` and renames it to ``rel_path``.

    The temp name is unique to this call: two attempts of one bundle can run at
    once (a retry racing a slow "zombie" attempt on Dataflow, speculative
    execution), and with a shared temp name one attempt's rename took the
    other's file, whose delete of the final name then left no shard at all.
    Renaming onto the final name replaces it (POSIX rename, GCS and S3 copy);
    only a filesystem that refuses that gets a delete first. Outputs are
    deterministic, so whichever attempt lands last writes the same bytes.
    """
    final = join(out_dir, rel_path)
    tmp = join(out_dir, TMP_DIR, f"{rel_path.replace('/', '__')}.{uuid.uuid4().hex}")
    _ensure_parent(tmp)
    _ensure_parent(final)
    with FileSystems.create(tmp, mime_type=content_type(rel_path)) as fh:
        fh.write(data)
    try:
        FileSystems.rename([tmp], [final])
    except Exception:
        if not FileSystems.exists(final):
            raise
        FileSystems.delete([final])
        FileSystems.rename([tmp], [final])
    return final


class _WriteShardFn(beam.DoFn):
    def __init__(self, kind, schema, out_dir, metadata, compression, level, shard_bytes, row_group_bytes, size_of):
        self.kind = kind
        self.schema = schema
        self.out_dir = out_dir
        self.metadata = metadata
        self.compression = compression
        self.level = level
        self.shard_bytes = shard_bytes
        self.row_group_bytes = row_group_bytes
        self.size_of = size_of

    def _builder(self) -> "_TableBuilder":
        schema = self.schema.with_metadata({**(self.schema.metadata or {}), **self.metadata})
        return _TableBuilder(schema, self.size_of)

    def _write(self, index: int, count: int, rows: "_TableBuilder") -> str:
        table, size = rows.table(), rows.size or 1
        per_group = max(1, int(table.num_rows * self.row_group_bytes / size)) if table.num_rows else 1
        data = table_bytes(table, rows.schema, self.compression, self.level, per_group)
        del table
        return write_atomically(self.out_dir, f"{self.kind}/{shard_name(self.kind, index, count)}", data)

    def process(self, element, totals):
        index, rows = element
        count = n_shards(totals, self.shard_bytes)
        builder = self._builder()
        for r in rows:
            if r is not _SLOT:
                builder.add(r)
        yield self._write(index, count, builder)


_TIE_BLOCK_ROWS = 65_536  # rows that share a key, converted to Python per block


class _TableBuilder:
    """Collects a shard's rows as Arrow record batches, never as a list of dicts.

    Python row dicts took 6-8x the shard's estimated size (a document row with its
    ~55 scores ~20 KB, a reject row ~1.7 KB; ``bench/bench_write.py``); Arrow
    columns take about the size of the data. Rows are converted ``batch_rows`` at
    a time and sorted once at the end (:meth:`table`): by id (or cluster, member),
    and rows that share that key (ids must be unique, but a user's JSONL ids or a
    WARC copied under two paths may repeat one) by all their values, so the bytes
    do not depend on arrival order.

    >>> import pyarrow as pa
    >>> b = _TableBuilder(pa.schema([("id", pa.string()), ("text", pa.string())]), lambda r: 1)
    >>> for r in ({"id": "b", "text": "2"}, {"id": "a", "text": "9"}, {"id": "b", "text": "1"}): b.add(r)
    >>> [(r["id"], r["text"]) for r in b.table().to_pylist()]
    [('a', '9'), ('b', '1'), ('b', '2')]
    """

    def __init__(self, schema: pa.Schema, size_of: Callable[[dict], int], batch_rows: int = 1024):
        self.schema = schema
        self.size_of = size_of
        self.batch_rows = batch_rows
        self.size = 0
        self._rows: list[dict[str, Any]] = []
        self._batches: list[pa.RecordBatch] = []

    def add(self, row: dict[str, Any]) -> None:
        self.size += self.size_of(row)
        self._rows.append(row)
        if len(self._rows) >= self.batch_rows:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._batches.append(pa.RecordBatch.from_pylist(self._rows, schema=self.schema))
            self._rows = []

    def table(self) -> pa.Table:
        """The rows sorted by id (or cluster, member); rows that share that key, by
        all their values. Peak: the rows in Arrow, twice."""
        self._flush()
        table = pa.Table.from_batches(self._batches, schema=self.schema)
        self._batches = []
        if table.num_rows < 2:
            return table
        keys = ["id"] if "id" in self.schema.names else ["cluster_id", "doc_id"]
        # Arrow compares strings by their UTF-8 bytes: code point order, as Python does.
        order = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in keys])
        if table.group_by(keys).aggregate([]).num_rows < table.num_rows:
            order = self._break_ties(table, keys, order)
        return table.take(order)

    @staticmethod
    def _break_ties(table: pa.Table, keys: list[str], order: pa.Array) -> pa.Array:
        """Orders the rows that share a key (a user's repeated JSONL ids, one file
        read under two paths) by all their values (their ``repr``, key by key);
        only those rows are converted to Python."""
        import numpy as np

        idx = order.to_numpy(zero_copy_only=False).copy()
        same = np.ones(len(idx) - 1, dtype=bool)
        for k in keys:
            col = table[k].take(order).combine_chunks()
            a, b = col.slice(1), col.slice(0, len(col) - 1)
            eq = pc.or_kleene(pc.equal(a, b), pc.and_(pc.is_null(a), pc.is_null(b))).fill_null(False)
            same &= eq.to_numpy(zero_copy_only=False).astype(bool)
        tied = np.flatnonzero(same)  # row p+1 shares row p's key
        runs = [(int(p[0]), int(p[-1]) + 1) for p in np.split(tied, np.flatnonzero(np.diff(tied) != 1) + 1)
                if p.size]  # rows i..j share their key
        # The tied rows are fetched in a few large takes (one take per run cost a
        # pass over the whole shard each: quadratic when every id repeats).
        block: list[tuple[int, int]] = []
        size = 0
        for n, (i, j) in enumerate(runs):
            block.append((i, j))
            size += j - i + 1
            if size >= _TIE_BLOCK_ROWS or n == len(runs) - 1:
                rows = table.take(pa.array(np.concatenate([idx[a : b + 1] for a, b in block]))).to_pylist()
                at = 0
                for a, b in block:
                    run, part = idx[a : b + 1].copy(), rows[at : at + b - a + 1]
                    at += b - a + 1
                    perm = sorted(range(len(part)), key=lambda r: sorted((k, repr(v)) for k, v in part[r].items()))
                    idx[a : b + 1] = run[perm]
                block, size = [], 0
        return pa.array(idx)


# One element per shard index joins every shard's group, so every index gets a
# file (an empty one if no row hashes to it, always shard 0 of an empty output):
# "-of-N" then always means N files, and readers can check completeness.
_SLOT = None


def _shard_slots(totals: tuple[int, int], shard_bytes: int, slot: Any = _SLOT) -> Iterator[tuple[int, Any]]:
    """``(index, slot)`` for every shard index of an output of ``totals``.

    >>> list(_shard_slots((0, 0), 100)), len(list(_shard_slots((5, 250), 100)))
    ([(0, None)], 3)
    """
    for index in range(n_shards(totals, shard_bytes)):
        yield index, slot


class CountAndBytes(beam.CombineFn):
    """Sums ``(rows, bytes)`` pairs: one global combine gives both the shard
    count's input and the empty-output check (``(0, 0)`` for no rows).

    >>> fn = CountAndBytes()
    >>> fn.extract_output(fn.merge_accumulators([fn.add_input(fn.create_accumulator(), 7), (2, 5)]))
    (3, 12)
    """

    def create_accumulator(self):
        return (0, 0)

    def add_input(self, acc, size):
        return (acc[0] + 1, acc[1] + size)

    def merge_accumulators(self, accs):
        rows = size = 0
        for r, b in accs:
            rows += r
            size += b
        return (rows, size)

    def extract_output(self, acc):
        return acc


def n_shards(totals: tuple[int, int], shard_bytes: int) -> int:
    """Number of shards for ``totals`` = (rows, bytes of payload): one per
    ``shard_bytes``, at least one, and never more than there are rows (a tiny
    ``shard_bytes``, say 256 meant as MB, must not write thousands of empty files).

    >>> n_shards((0, 0), 100), n_shards((5, 100), 100), n_shards((5, 101), 100), n_shards((8, 10**6), 1)
    (1, 1, 2, 8)
    """
    rows, size = totals
    return max(1, min(rows, math.ceil(size / shard_bytes)))


class WriteShards(beam.PTransform):
    """Writes ``rows`` (dicts matching ``schema``) as deterministic Parquet shards.

    Args:
        kind: output name (``documents``, ``rejects``, ``clusters``): folder and file prefix.
        schema: the Arrow schema (from ``schemas/``).
        out_dir: run output directory (any Beam filesystem).
        metadata: extra file metadata (config hash, furui version).
        size_of: payload size estimate of one row, for shard and row-group sizing.
        shard_id: the row key that assigns a row to a shard.
    """

    def __init__(self, kind: str, schema: pa.Schema, out_dir: str, metadata: dict[str, str],
                 size_of: Callable[[dict], int], shard_id: Callable[[dict], str],
                 shard_bytes: int = 256_000_000, row_group_bytes: int = 64_000_000,
                 compression: str = "zstd", compression_level: int | None = 3):
        super().__init__()
        self.kind = kind
        self.schema = schema
        self.out_dir = out_dir
        self.metadata = metadata
        self.size_of = size_of
        self.shard_id = shard_id
        self.shard_bytes = shard_bytes
        self.row_group_bytes = row_group_bytes
        self.compression = compression
        self.compression_level = compression_level

    def expand(self, rows):
        size_of, shard_id, shard_bytes = self.size_of, self.shard_id, self.shard_bytes
        fn_args = (self.kind, self.schema, self.out_dir, self.metadata, self.compression,
                   self.compression_level, self.shard_bytes, self.row_group_bytes, self.size_of)
        # (rows, bytes): one tiny global combine, read as a side input. Its single
        # element (also (0, 0) for no rows) drives the empty-output shard.
        totals_pc = rows | "Totals" >> (beam.Map(size_of) | beam.CombineGlobally(CountAndBytes()))
        totals = beam.pvalue.AsSingleton(totals_pc)
        keyed = rows | "AssignShard" >> beam.Map(
            lambda r, t: (shard_of(shard_id(r), n_shards(t, shard_bytes)), r), t=totals)
        slots = totals_pc | "ShardSlots" >> beam.FlatMap(_shard_slots, shard_bytes)
        return (
            (keyed, slots)
            | "WithSlots" >> beam.Flatten()
            | "GroupShard" >> beam.GroupByKey()
            | "WriteShard" >> beam.ParDo(_WriteShardFn(*fn_args), totals=totals)
        )


class _WriteDedupShardFn(_WriteShardFn):
    """One shard: route its documents by the dedup decisions, write the kept ones."""

    def __init__(self, *args, to_row, stat_keys, keeper):
        super().__init__(*args)
        self.to_row = to_row
        self.stat_keys = stat_keys
        self.keeper = tuple(keeper)

    def setup(self):
        from pipeline.dedup import Router

        self.router = Router()

    def process(self, element, totals):
        from dedup.components import reiterable
        from pipeline.dedup import Copies, decision_key, doc_key

        index, items = element
        # Two passes over the grouped values (re-iterable on every runner), so the
        # shard's documents are never all held: the first collects the (few, small)
        # decisions and counts the documents per key, the second routes and
        # converts one document at a time. (A third, between them, only when one
        # text repeats under one id: which copy is first.)
        items = reiterable(items)
        decisions: dict[tuple, list] = {}
        copies = Copies(self.router, self.keeper)
        for kind, value in items:
            if kind == "doc":
                copies.count(doc_key(value))
            elif kind == "decision":  # (doc id, decision): keyed like its document
                decisions.setdefault(decision_key(value), []).append(value[1])
        builder = self._builder()
        keyed_docs = lambda: ((doc_key(v), v) for k, v in items if k == "doc")  # noqa: E731
        for out in copies.route_counted(keyed_docs, lambda key: decisions.get(key, ())):
            yield from self._emit(out, builder)
        yield self._write(index, n_shards(totals, self.shard_bytes), builder)

    def _emit(self, out, builder):
        from schemas.records import Reject

        if isinstance(out, Reject):
            yield beam.pvalue.TaggedOutput("rejected", out)
            return
        builder.add(self.to_row(out))
        for pair in self.stat_keys(out):
            yield beam.pvalue.TaggedOutput("stats", pair)


class WriteDeduplicatedDocuments(WriteShards):
    """Joins documents with their dedup decisions *in* the shard shuffle, then writes.

    A separate join would shuffle every document by id and the writer would
    shuffle it again by shard; here documents and the (few, small) loser
    decisions are both keyed by shard, so each document crosses the network
    once. The shard count comes from the size of the documents entering dedup,
    so shards come out smaller than ``shard_bytes`` by the duplicate share.

    Input: ``{"docs": PCollection[Doc], "decisions": PCollection[(id, decision)]}``.
    Output: ``{"files", "rejected" (dedup Rejects), "stats" ((key, count) pairs of kept docs)}``.
    """

    def __init__(self, kind: str, schema: pa.Schema, out_dir: str, metadata: dict[str, str],
                 size_of: Callable[[dict], int], *, to_row, stat_keys, keeper, **kwargs):
        # No shard_id to choose: documents must go where their decisions go, both
        # by the id and text digest (pipeline.dedup.shard_key).
        super().__init__(kind, schema, out_dir, metadata, size_of, None, **kwargs)
        self.to_row = to_row
        self.stat_keys = stat_keys
        self.keeper = tuple(keeper)  # which of several copies of one text under one id is kept

    def expand(self, inputs):
        from pipeline.dedup import decision_key, key_string, shard_key

        docs, decisions = inputs["docs"], inputs["decisions"]
        size_of, shard_bytes = self.size_of, self.shard_bytes
        to_row = self.to_row
        fn_args = (self.kind, self.schema, self.out_dir, self.metadata, self.compression,
                   self.compression_level, self.shard_bytes, self.row_group_bytes, self.size_of)
        totals_pc = docs | "Totals" >> (
            beam.Map(lambda d: size_of({"text": d.text, "scores": d.scores, "pii": d.pii}))
            | beam.CombineGlobally(CountAndBytes()))
        t = beam.pvalue.AsSingleton(totals_pc)
        # Sharded by id and text digest, decisions by the id and digest they are for:
        # documents that share an id (a user's constant JSONL id) spread over shards.
        keyed_docs = docs | "AssignShard" >> beam.Map(
            lambda d, t: (shard_of(shard_key(d.id, d.text), n_shards(t, shard_bytes)), ("doc", d)), t=t)
        keyed_decisions = decisions | "AssignDecisionShard" >> beam.Map(
            lambda kv, t: (shard_of(key_string(decision_key(kv)), n_shards(t, shard_bytes)), ("decision", kv)),
            t=t)
        slots = totals_pc | "ShardSlots" >> beam.FlatMap(_shard_slots, shard_bytes, ("slot", None))
        out = (
            (keyed_docs, keyed_decisions, slots)
            | "Tag" >> beam.Flatten()
            | "GroupShard" >> beam.GroupByKey()
            | "RouteAndWrite" >> beam.ParDo(
                _WriteDedupShardFn(*fn_args, to_row=to_row, stat_keys=self.stat_keys, keeper=self.keeper), totals=t
            ).with_outputs("rejected", "stats", main="files")
        )
        return {"files": out.files, "rejected": out.rejected, "stats": out.stats}
