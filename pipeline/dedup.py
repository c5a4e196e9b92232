"""Beam composite for exact and near-duplicate removal (issue 4).

Graph (every shuffle except the last carries only small records):

1. ``Dedup/Sign``: batches of documents -> per document a ``Sketch``: keeper
   rank (``dedup.keeper``), 16-byte xxh3-128 of the text, MinHash signature
   and LSH band hashes (vectorised over the batch, ``dedup.minhash``).
2. ``Dedup/Exact``: group sketches by text hash; the minimum rank is kept, the
   others become ``exact_duplicate`` decisions. Only exact keepers continue.
3. ``Dedup/Near/Buckets``: group ranks by ``(band, band hash)``; each bucket
   emits star edges to its minimum (``dedup.lsh.star_edges``).
4. ``Dedup/Near/Verify`` (``verify_threshold > 0``): two joins attach the
   signatures of both endpoints; edges whose estimated Jaccard is below the
   threshold are dropped.
5. ``Dedup/Near/CC/RoundNN``: ``max_rounds`` large-star/small-star rounds
   (``dedup.components``), unrolled in the graph. Each round counts the nodes
   it changed (``cc.changed``); the last round's count decides convergence.
6. ``Dedup/Near/Label`` + ``Dedup/Near/Clusters``: each node takes its star
   centre (= component minimum = keeper) and clusters are sized.
7. ``Dedup/Join``: documents keyed by :func:`doc_key` (id and text digest) meet
   the (few) loser decisions in one ``CoGroupByKey``: the only shuffle of full
   documents. The pipeline instead
   uses ``join=False`` and lets the shard writer do this join inside its own
   shuffle (``pipeline.write.WriteDeduplicatedDocuments``), so dedup adds no
   shuffle of documents (the ``site_boilerplate`` step, when configured, has
   one of its own: ``pipeline.boilerplate``).
"""

from __future__ import annotations

import logging
import struct
from typing import Any, Iterable, NamedTuple, Sequence

import apache_beam as beam
import numpy as np
import xxhash
from apache_beam.metrics import Metrics
from apache_beam.pvalue import TaggedOutput

from dedup.components import large_star, reiterable, small_star
from dedup.keeper import rank_key
from dedup.lsh import band_hashes, star_edges
from dedup.minhash import signatures
from dedup.params import DedupParams
from pipeline.stages import batch_docs
from schemas.records import Doc, Reject

NAMESPACE = "furui.dedup"
#: A cluster row's extra field, not written: its member's text digest (8 bytes),
#: with ``doc_id`` the row's shard key, so that members which share an id (a
#: user's constant JSONL id) spread over the shards as their documents do.
MEMBER_DIGEST = "member_digest"
_log = logging.getLogger(__name__)


class Sketch(NamedTuple):
    """Small per-document record shuffled instead of the document.

    Attributes:
        rank: Keeper rank ``(bytes, id, text)``: :func:`dedup.keeper.rank_key`
            plus the first 8 bytes of ``text_hash``. The smallest rank of a
            cluster wins. Ranks are the dedup graph's nodes, so the text part
            keeps two different texts that share an id (a user's JSONL ids) two
            nodes: one node with two signatures made the verification step's
            result depend on which signature the shuffle delivered first.
        text_hash: xxh3-128 digest of the text (16 bytes).
        sig: MinHash signature as little-endian uint32 bytes ('' if not needed).
        bands: Band hashes as big-endian uint64 bytes (b"" if near is off).
    """

    rank: tuple
    text_hash: bytes
    sig: bytes
    bands: bytes


def cluster_id(kind: str, keeper_id: str, keeper_digest: bytes) -> str:
    """``<kind>:<keeper id>:<16 hex digits of the keeper's text digest>``: unique per
    cluster even when ids repeat (a user's constant JSONL id keeps several texts,
    and each can keep a cluster of its own).

    >>> cluster_id("near", "doc-1", bytes(range(8)))
    'near:doc-1:0001020304050607'
    """
    return f"{kind}:{keeper_id}:{keeper_digest[:8].hex()}"


def text_digest(text: str) -> bytes:
    """xxh3-128 of a text: exact dedup's key; its first 8 bytes end each rank.

    >>> len(text_digest("本文")), text_digest("本文") == text_digest("本文")
    (16, True)
    """
    return xxhash.xxh3_128_digest(text.encode("utf-8", "surrogatepass"))


def doc_key(doc: Doc) -> tuple[str, bytes]:
    """What a document is joined and sharded on after dedup: its id and the
    first 8 bytes of its :func:`text_digest` (the end of its rank).

    Ids are the user's and can repeat: a JSONL ``id`` field that is a constant
    or a dataset name puts millions of documents under one id, and keyed by id
    alone they all met on one worker. Under this key only copies of one text
    under one id (one record read twice) meet, and :class:`Copies` routes them
    without holding them.

    >>> doc_key(Doc(id="a", url="", source="", crawl_date="", text="x")) == ("a", text_digest("x")[:8])
    True
    """
    return _key(doc.id, doc.text)


def _key(doc_id: str, text: str) -> tuple[str, bytes]:
    return doc_id, text_digest(text or "")[:8]


def decision_key(id_decision: tuple[str, tuple]) -> tuple[str, bytes]:
    """The :func:`doc_key` of the document an ``(id, decision)`` is for: a decision
    names its document's text digest (its fourth field), as ids may repeat.

    >>> decision_key(("a", ("exact_duplicate", "b", 2, b"12345678", b"87654321")))
    ('a', b'12345678')
    """
    return id_decision[0], id_decision[1][3]


def shard_key(doc_id: str, text: str) -> str:
    """The string a document's shard is chosen by: :func:`key_string` of its
    :func:`doc_key`, for writers that hold rows or ids and texts.

    >>> shard_key("a", "x") == key_string(doc_key(Doc(id="a", url="", source="", crawl_date="", text="x")))
    True
    """
    return key_string(_key(doc_id, text))


def key_string(key: tuple[str, bytes]) -> str:
    """A :func:`doc_key` as one string, for ``pipeline.write.shard_of``.

    >>> key_string(("a", b"\\x00\\xff"))
    'a\\x0000ff'
    """
    return f"{key[0]}\x00{key[1].hex()}"


def _counter(name: str):
    return Metrics.counter(NAMESPACE, name)


class _SignBatch(beam.DoFn):
    """Compute sketches for a batch of documents (vectorised MinHash)."""

    def __init__(self, params: DedupParams):
        self.params = params

    def setup(self):
        self.c_in = _counter("in")

    def process(self, batch: list[Doc]):
        p = self.params
        self.c_in.inc(len(batch))
        texts = [d.text or "" for d in batch]
        if p.near:
            sigs = signatures(texts, p.num_perm, p.seed, p.ngram, p.method, p.tokenizer)
            bh = band_hashes(sigs, p.bands, p.rows, p.seed).astype(">u8")
            keep_sig = p.verify_threshold > 0
        for i, d in enumerate(batch):
            th = text_digest(texts[i])
            rank = rank_key(d.id, d.quality, d.crawl_date, d.n_chars, p.keeper) + (th[:8],)
            if p.near:
                yield Sketch(rank, th, sigs[i].tobytes() if keep_sig else b"", bh[i].tobytes())
            else:
                yield Sketch(rank, th, b"", b"")


class _ExactDecide(beam.DoFn):
    """Within one text-hash group: keep the minimum rank, reject the others."""

    def setup(self):
        self.c_clusters = _counter("clusters")
        self.c_exact_clusters = _counter("clusters.exact")

    def process(self, element):
        _, sketches = element
        # Two passes over the re-iterable grouped values, never a list: on the
        # web one boilerplate text can repeat millions of times, and a list of
        # its sketches (~0.8 KB each) would not fit in a worker.
        sketches = reiterable(sketches)
        best, n = None, 0
        for s in sketches:
            n += 1
            if best is None or s.rank < best.rank:
                best = s
        yield best
        if n > 1:
            # Copies under the keeper's own id (one record read twice) are the
            # writer's to drop: a decision names an id, and the keeper's would
            # reject the keeper too. They are not cluster members either.
            keeper_id = best.rank[1]
            size = 1 + sum(1 for s in sketches if s.rank[1] != keeper_id)
            if size > 1:
                yield from self._duplicates(keeper_id, best.rank[2], sketches, size)

    def _duplicates(self, keeper_id, best_digest, sketches, size):
        self.c_clusters.inc()
        self.c_exact_clusters.inc()
        cid = cluster_id("exact", keeper_id, best_digest)
        yield TaggedOutput("clusters", {"cluster_id": cid, "doc_id": keeper_id, "kept": True, "size": size, "kind": "exact",
                                        MEMBER_DIGEST: best_digest})
        for s in sketches:
            if s.rank[1] == keeper_id:
                continue
            yield TaggedOutput("decisions", (s.rank[1], ("exact_duplicate", keeper_id, size, s.rank[2],
                                                         s.rank[2])))
            yield TaggedOutput(
                "clusters", {"cluster_id": cid, "doc_id": s.rank[1], "kept": False, "size": size, "kind": "exact",
                             MEMBER_DIGEST: s.rank[2]}
            )


def _band_records(s: Sketch):
    for i in range(len(s.bands) // 8):
        yield (struct.pack(">H", i) + s.bands[8 * i : 8 * i + 8], s.rank)


class _BucketEdges(beam.DoFn):
    """Star edges ``(member, bucket minimum)`` of one LSH bucket."""

    def __init__(self, max_bucket_size: int):
        self.max_bucket_size = max_bucket_size

    def setup(self):
        self.c_edges = _counter("edges.candidate")
        self.c_oversized = _counter("bucket.oversized")

    def process(self, element):
        _, members = element
        # star_edges reads the grouped values twice without materialising them
        # (Beam's grouped iterables are re-iterable), so memory is O(1) per bucket.
        n, parent = 0, None
        for edge in star_edges(members):
            n += 1
            parent = edge[1]
            yield edge
        if n:
            self.c_edges.inc(n)
            # One "is a parent" marker per bucket, not per edge: a document is in
            # one bucket per band, so verification's join holds at most `bands`
            # markers per node instead of one per child.
            yield TaggedOutput("parents", (parent, True))
        if n + 1 > self.max_bucket_size:
            self.c_oversized.inc()


class _VerifyAttachChild(beam.DoFn):
    """Join 1 (key = node): forward the node's signature to each of its parents,
    and its own signature once if it is a parent itself."""

    def process(self, element):
        node, grouped = element
        sig = next(iter(grouped["sig"]), None)
        if sig is not None:  # every edge endpoint is an exact keeper, so always true
            for p in sorted(set(grouped["parent"])):
                yield (p, ("kid", node, sig))
            if next(iter(grouped["is_parent"]), None) is not None:
                yield (node, ("self", None, sig))


class _VerifyDecide(beam.DoFn):
    """Join 2 (key = parent): keep edges whose signature agreement >= threshold."""

    def __init__(self, threshold: float):
        self.threshold = threshold

    def setup(self):
        self.c_dropped = _counter("edges.verify_dropped")
        self.c_kept = _counter("edges.verified")

    def process(self, element):
        parent, items = element
        # Two passes over the re-iterable grouped values instead of a list, so a
        # parent with many children does not hold all their signatures at once.
        own = next((sig for kind, _, sig in items if kind == "self"), None)
        a = np.frombuffer(own, dtype=np.uint32)  # a parent always forwards its own signature
        for kind, kid, sig in items:
            if kind != "kid":
                continue
            est = float(np.count_nonzero(a == np.frombuffer(sig, dtype=np.uint32))) / a.shape[0]
            if est >= self.threshold:
                self.c_kept.inc()
                yield (kid, parent)
            else:
                self.c_dropped.inc()


def _both_directions(edge):
    child, parent = edge
    yield (child, parent)
    yield (parent, child)


class _LargeStar(beam.DoFn):
    def __init__(self, round_index: int = 0):
        self.round_index = round_index

    def process(self, element):
        u, nbrs = element
        edges, changed = large_star(u, nbrs)
        yield from edges
        if changed:
            yield TaggedOutput("changed", (self.round_index, 1))


class _SmallStar(beam.DoFn):
    """Small-star step; with ``both_directions`` it emits each edge both ways,
    keyed for the next round's large-star grouping."""

    def __init__(self, round_index: int = 0, both_directions: bool = False):
        self.round_index = round_index
        self.both_directions = both_directions

    def process(self, element):
        u, smaller = element
        edges, changed = small_star(u, smaller)
        if self.both_directions:
            for child, parent in edges:
                yield (child, parent)
                yield (parent, child)
        else:
            yield from edges
        if changed:
            yield TaggedOutput("changed", (self.round_index, 1))


class _ReportConvergence(beam.DoFn):
    """Turn the per-round change counts into counters (convergence detection)."""

    def __init__(self, rounds: int):
        self.rounds = rounds

    def process(self, tagged: list):
        # (round, nodes changed in that round) for the rounds that changed anything.
        per_round = dict(tagged)
        counts = [per_round.get(k, 0) for k in range(self.rounds)]
        active = sum(1 for c in counts if c)
        Metrics.distribution(NAMESPACE, "cc.rounds_active").update(active)
        if counts and counts[-1]:
            Metrics.counter(NAMESPACE, "cc.unconverged").inc()
            _log.warning(
                "dedup: connected components did not converge in %d rounds (%d nodes still moving); "
                "some clusters stay split (never wrongly merged) and some dup_of ids may name an "
                "intermediate member instead of the keeper. Raise dedup.max_rounds.",
                self.rounds,
                counts[-1],
            )
        yield active


class _Clusters(beam.DoFn):
    """One near cluster: its centre (keeper) and the children pointing to it."""

    def setup(self):
        self.c_clusters = _counter("clusters")
        self.c_near_clusters = _counter("clusters.near")

    def process(self, element):
        keeper, children = element
        # Children are distinct (Label/Min emits one parent per child), so two
        # passes give the size and the rows without holding the cluster: one
        # near cluster can have millions of members (a spam template).
        children = reiterable(children)
        size = 1 + sum(1 for _ in children)
        keeper_id = keeper[1]
        cid = cluster_id("near", keeper_id, keeper[2])
        self.c_clusters.inc()
        self.c_near_clusters.inc()
        yield TaggedOutput("clusters", {"cluster_id": cid, "doc_id": keeper_id, "kept": True, "size": size, "kind": "near",
                                        MEMBER_DIGEST: keeper[2]})
        for child in children:
            yield (child[1], ("near_duplicate", keeper_id, size, child[2], keeper[2]))
            yield TaggedOutput(
                "clusters", {"cluster_id": cid, "doc_id": child[1], "kept": False, "size": size, "kind": "near",
                             MEMBER_DIGEST: child[2]}
            )


class Router:
    """Routes documents by their dedup decision: keeps them, or makes the reject.

    Shared by the final join here and by the shard writer that folds the join
    into its own shuffle (``pipeline.write.WriteDeduplicatedDocuments``). Create
    it in ``DoFn.setup`` (it makes the counters).
    """

    def __init__(self):
        self.c_kept = _counter("kept")
        self.c_exact = _counter("dropped.exact_duplicate")
        self.c_near = _counter("dropped.near_duplicate")

    @staticmethod
    def pick(decisions) -> tuple | None:
        """The one decision for a document (exact losers never reach the near
        stage, so there is at most one; sorting keeps any surprise deterministic)."""
        decisions = sorted(decisions)
        return decisions[0] if decisions else None

    def route(self, doc: Doc, decision: tuple | None) -> Doc | Reject:
        """``doc`` itself when kept, else its ``Reject`` (counted either way)."""
        if decision is None:
            self.c_kept.inc()
            return doc
        reason, dup_of, size = decision[:3]
        if reason == "exact_duplicate":
            self.c_exact.inc()
            filt = "exact_dedup"
        else:
            self.c_near.inc()
            filt = "near_dedup"
        return Reject(id=doc.id, url=doc.url, source=doc.source, stage="dedup", filter=filt, reason=reason,
                      detail="", scores={"dedup.cluster_size": float(size)}, dup_of=dup_of, n_chars=doc.n_chars)


class Copies:
    """Routes the documents of one join group or writer shard.

    Documents are keyed by :func:`doc_key`; copies of one text under one id (one
    record read twice, say one file under two paths, or one page crawled twice
    under a constant JSONL id) share a key and a decision. Of such copies one is
    kept unless the decision drops their text: the first by the keeper order
    (``keeper``: with the default, the earliest crawl date), then by (source,
    URL, crawl date), so every rerun keeps the same one; the others are its
    exact duplicates. A decision that drops a text for the same text under the
    same id (with ``[dedup] exact = false``, copies that differ in crawl date
    are near duplicates of each other) keeps the first copy the same way, and
    the others keep the decision.

    Passes over the group's (re-iterable) documents: :meth:`count` sees every
    one (the caller's first pass, which also reads what else the group holds);
    :meth:`route_counted` then makes the others: only if some key repeats,
    :meth:`order` sees them again; :meth:`route` routes each as it comes, then
    :meth:`finish`. Memory: a count per key, the first copy's order per repeated
    key, and one held document per key whose first copies are alike in all of it
    (a line twice in one file); never the copies themselves.
    """

    def __init__(self, router: "Router", keeper: Sequence[str]):
        self.router = router
        self.keeper = tuple(keeper)
        self.n: dict[tuple, int] = {}
        self.repeats = 0  # documents beyond the first of their key
        self.first: dict[tuple, tuple] = {}  # repeated key -> the order of its first copy
        self.tied: set[tuple] = set()  # repeated keys whose first copies are alike in all of it
        self.held: dict[tuple, Doc] = {}  # tied key -> the copy kept so far

    def _order(self, doc: Doc) -> tuple:
        rank = rank_key(doc.id, doc.quality, doc.crawl_date, doc.n_chars, self.keeper)[0]
        return (rank, doc.source, doc.url, doc.crawl_date)

    def count(self, key: tuple) -> None:
        n = self.n.get(key, 0)
        self.n[key] = n + 1
        self.repeats += n > 0

    def order(self, key: tuple, doc: Doc) -> None:
        if self.n[key] < 2:
            return
        order = self._order(doc)
        first = self.first.get(key)
        if first is None or order < first:
            self.first[key] = order
            self.tied.discard(key)
        elif order == first:
            self.tied.add(key)

    def route(self, key: tuple, doc: Doc, decisions) -> Iterable[Doc | Reject]:
        decision = Router.pick(decisions)
        # Dropped for its own text under its own id: for another copy of itself.
        own = decision is not None and decision[1] == key[0] and decision[4:5] == (key[1],)
        n = self.n.get(key, 1)
        if n == 1 or (decision is not None and not own):
            yield self.router.route(doc, None if own else decision)
            return
        loser = decision if own else ("exact_duplicate", key[0], n)
        if self._order(doc) != self.first[key]:
            yield self.router.route(doc, loser)
        elif key not in self.tied:
            yield self.router.route(doc, None)
        elif key not in self.held:
            self.held[key] = doc
        else:  # copies alike in rank, source, URL and date: the smaller repr is kept, on every run
            if repr(doc) < repr(self.held[key]):
                self.held[key], doc = doc, self.held[key]
            yield self.router.route(doc, loser)

    def finish(self) -> Iterable[Doc | Reject]:
        for key in sorted(self.held):
            yield self.router.route(self.held[key], None)
        self.held.clear()

    def route_counted(self, keyed_docs, decisions_of) -> Iterable[Doc | Reject]:
        """Every document of ``keyed_docs()`` (a fresh ``(key, doc)`` iterator per
        call, over the documents already given to :meth:`count`), each routed by
        ``decisions_of(key)``."""
        if self.repeats:
            for key, doc in keyed_docs():
                self.order(key, doc)
        for key, doc in keyed_docs():
            yield from self.route(key, doc, decisions_of(key))
        yield from self.finish()


class _Apply(beam.DoFn):
    """Final join: route each document to kept or rejected."""

    def __init__(self, keeper: Sequence[str]):
        self.keeper = tuple(keeper)

    def setup(self):
        self.router = Router()

    def process(self, element):
        key, grouped = element
        docs = reiterable(grouped["doc"])  # one, unless one text repeats under one id
        decisions = list(grouped["decision"])
        copies = Copies(self.router, self.keeper)
        for _ in docs:
            copies.count(key)
        for out in copies.route_counted(lambda: ((key, d) for d in docs), lambda _: decisions):
            yield TaggedOutput("rejected", out) if isinstance(out, Reject) else out


class Deduplicate(beam.PTransform):
    """Exact + MinHash-LSH near-duplicate removal over a whole run.

    ``expand`` returns ``{"kept", "rejected", "clusters"}``: every input
    document is in exactly one of ``kept``/``rejected``; ``clusters`` holds one
    ``schemas.clusters.SCHEMA`` row per member of each duplicate cluster (plus
    :data:`MEMBER_DIGEST`, the writer's shard key, which is not written).

    With ``join=False`` it returns ``{"decisions", "clusters"}`` instead:
    ``(doc id, (reason, dup_of, cluster size, text digest[:8], keeper's text digest[:8]))``
    for the losers only, for a consumer that joins them with the documents (on
    :func:`doc_key`: the id and the first digest) in a shuffle it needs anyway
    (the shard writer), so full documents are shuffled once, not twice.
    """

    def __init__(self, params: DedupParams, join: bool = True):
        super().__init__()
        self.params = params
        self.join = join

    def expand(self, docs):
        p = self.params
        label = "Dedup"
        if p.near:
            _log.info(
                "dedup: num_perm=%d bands=%d rows=%d -> implied Jaccard threshold (1/b)^(1/r) = %.3f; "
                "verify_threshold=%.2f, method=%s",
                p.num_perm, p.bands, p.rows, p.threshold, p.verify_threshold, p.method,
            )
        sketches = (
            batch_docs(docs, p.batch_size, f"{label}/Sign/Batch")
            | f"{label}/Sign/Sketch" >> beam.ParDo(_SignBatch(p))
        )
        decision_parts = []
        cluster_parts = []
        pipeline = docs.pipeline

        if p.exact:
            exact = (
                sketches
                | f"{label}/Exact/KeyByHash" >> beam.Map(lambda s: (s.text_hash, s))
                | f"{label}/Exact/Group" >> beam.GroupByKey()
                | f"{label}/Exact/Decide" >> beam.ParDo(_ExactDecide()).with_outputs("decisions", "clusters", main="kept")
            )
            survivors = exact.kept
            decision_parts.append(exact.decisions)
            cluster_parts.append(exact.clusters)
        else:
            survivors = sketches

        if p.near:
            edges = (
                survivors
                | f"{label}/Near/Buckets/Key" >> beam.FlatMap(_band_records)
                | f"{label}/Near/Buckets/Group" >> beam.GroupByKey()
                | f"{label}/Near/Buckets/StarEdges"
                >> beam.ParDo(_BucketEdges(p.max_bucket_size)).with_outputs("parents", main="edges")
            )
            as_parent, edges = edges.parents, edges.edges
            if p.verify_threshold > 0:
                sigs = survivors | f"{label}/Near/Verify/Sigs" >> beam.Map(lambda s: (s.rank, s.sig))
                edges = (
                    {"sig": sigs, "parent": edges, "is_parent": as_parent}
                    | f"{label}/Near/Verify/JoinChild" >> beam.CoGroupByKey()
                    | f"{label}/Near/Verify/AttachChild" >> beam.ParDo(_VerifyAttachChild())
                    | f"{label}/Near/Verify/GroupParent" >> beam.GroupByKey()
                    | f"{label}/Near/Verify/Decide" >> beam.ParDo(_VerifyDecide(p.verify_threshold))
                )
            # Each round is two shuffles and two DoFns: the small-star step emits
            # the next round's large-star input (both directions) itself, and both
            # steps tag their changed-node counts with the round, so no extra
            # keying or tagging transforms are unrolled per round.
            changes = []
            edges = edges | f"{label}/Near/CC/Key" >> beam.FlatMap(_both_directions)
            for k in range(p.max_rounds):
                rl = f"{label}/Near/CC/Round{k:02d}"
                last = k == p.max_rounds - 1
                large = (
                    edges
                    | f"{rl}/LargeStar/Group" >> beam.GroupByKey()
                    | f"{rl}/LargeStar/Step" >> beam.ParDo(_LargeStar(k)).with_outputs("changed", main="edges")
                )
                small = (
                    large.edges
                    | f"{rl}/SmallStar/Group" >> beam.GroupByKey()
                    | f"{rl}/SmallStar/Step"
                    >> beam.ParDo(_SmallStar(k, both_directions=not last)).with_outputs("changed", main="edges")
                )
                edges = small.edges
                # (round, 1) per changed node; one combiner sums every round at
                # once (a CombineGlobally per round would add ~8 transforms each).
                changes += [large.changed, small.changed]
            # Convergence: a tiny per-round integer, combined into one list.
            _ = (
                tuple(changes)
                | f"{label}/Near/CC/Changes/Flatten" >> beam.Flatten()
                | f"{label}/Near/CC/Changes/Sum" >> beam.CombinePerKey(sum)
                | f"{label}/Near/CC/Changes/Count" >> beam.combiners.ToList()
                | f"{label}/Near/CC/Changes/Report" >> beam.ParDo(_ReportConvergence(p.max_rounds))
            )
            near = (
                edges
                | f"{label}/Near/Label/Group" >> beam.GroupByKey()
                # A converged child has exactly one parent; otherwise take the smallest.
                | f"{label}/Near/Label/Min" >> beam.Map(lambda kv: (min(kv[1]), kv[0]))
                | f"{label}/Near/Clusters/Group" >> beam.GroupByKey()
                | f"{label}/Near/Clusters/Emit" >> beam.ParDo(_Clusters()).with_outputs("clusters", main="decisions")
            )
            decision_parts.append(near.decisions)
            cluster_parts.append(near.clusters)

        if decision_parts:
            decisions = tuple(decision_parts) | f"{label}/Decisions/Flatten" >> beam.Flatten()
        else:
            decisions = pipeline | f"{label}/Decisions/Empty" >> beam.Create([])
        if cluster_parts:
            clusters = tuple(cluster_parts) | f"{label}/Clusters/Flatten" >> beam.Flatten()
        else:
            clusters = pipeline | f"{label}/Clusters/Empty" >> beam.Create([])

        if not self.join:
            return {"decisions": decisions, "clusters": clusters}
        routed = (
            {"doc": docs | f"{label}/Join/KeyDocs" >> beam.Map(lambda d: (doc_key(d), d)),
             "decision": decisions | f"{label}/Join/KeyDecisions" >> beam.Map(lambda kv: (decision_key(kv), kv[1]))}
            | f"{label}/Join/Group" >> beam.CoGroupByKey()
            | f"{label}/Join/Apply" >> beam.ParDo(_Apply(self.params.keeper)).with_outputs("rejected", main="kept")
        )
        return {"kept": routed.kept, "rejected": routed.rejected, "clusters": clusters}
