"""Run statistics: the per-stage, per-reason funnel, histograms and PII counts.

The statistics are computed from the data itself inside the pipeline (small
``(key, count)`` pairs summed by a combiner), not from runner metrics, because
some runners report only attempted metric values. What reaches one worker at
the end is a few hundred aggregated counters, never documents or ids.

``build_funnel`` is pure: it derives every step's ``in``/``kept`` from the
number of records read and the reject counts, because steps are sequential:
``in(step k) = in(step k-1) - dropped(step k-1)``.

Per-host counts are the one statistic with a key per value (a corpus has
millions of hosts): they are summed per host by their own lifted combine and
reduced to the number of hosts and the ``TOP_HOSTS`` largest by a second
combine that holds at most ``2 * TOP_HOSTS`` hosts per worker.
"""

from __future__ import annotations

import bisect
import copy
import heapq
import ipaddress
import json
import unicodedata
from typing import Any, Iterable
from urllib.parse import urlsplit

import apache_beam as beam

from schemas import clusters, documents, rejects, stats
from schemas.records import Doc, Reject

N_CHARS_EDGES = [0, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 102400]
LANG_SCORE_EDGES = [round(i * 0.05, 2) for i in range(21)]
# Hosts listed in stats.json (by documents kept; the card shows the first 20).
TOP_HOSTS = 100


def bucket(edges: list[float], value: float, closed: bool = False) -> int:
    """Index of the histogram bin of ``value``.

    Open (default): one bin per edge, the last holds everything from the last
    edge up. Closed: ``len(edges) - 1`` bins and the last edge belongs to the
    last bin (a probability of exactly 1.0 is in [0.95, 1.0], not a bin of its own).

    >>> bucket([0, 10, 20], 0), bucket([0, 10, 20], 15), bucket([0, 10, 20], 99)
    (0, 1, 2)
    >>> bucket([0, 0.5, 1.0], 0.7, closed=True), bucket([0, 0.5, 1.0], 1.0, closed=True)
    (1, 1)
    """
    return max(0, min(len(edges) - (2 if closed else 1), bisect.bisect_right(edges, value) - 1))


# --- keys emitted by the pipeline ------------------------------------------

def record_keys(_record) -> Iterable[tuple[tuple, int]]:
    yield ("records",), 1


def reject_keys(r: Reject) -> Iterable[tuple[tuple, int]]:
    yield ("reject", r.stage, r.filter, r.reason), 1
    if r.filter == "langid" and "langid.score" in r.scores:
        yield ("hist", "lang_score", bucket(LANG_SCORE_EDGES, r.scores["langid.score"], closed=True)), 1


def doc_keys(d: Doc) -> Iterable[tuple[tuple, Any]]:
    yield ("documents",), 1
    yield ("total", "chars"), d.n_chars
    yield ("total", "tokens"), d.n_tokens
    yield ("crawl_month", crawl_month(d.crawl_date)), 1
    yield ("hist", "n_chars", bucket(N_CHARS_EDGES, d.n_chars)), 1
    for kind, n in d.pii.items():
        yield ("pii", kind), int(n)
    # The one key with a value per host; ComputeStats sums it apart (see there).
    yield ("host", host_of(d.url)), (1, d.n_chars)


_MAX_HOST = 253  # DNS's longest name


def host_of(url: str) -> str:
    r"""The host of a document's URL, lower case, without user, port or final dot.

    ``""`` when the URL has no host a web page can be served from: a JSONL line
    without ``url``, a URL without a scheme (``example.jp/page``) or not one, a
    name longer than DNS allows (253) or with characters no host name holds, and a
    name without a dot (``localhost``; ``http://ghp_TOKEN/x@github.com/`` names the
    host ``ghp_token``, as browsers read it, and such a token must not reach the card).

    One host is counted once however its URLs spell it, as browsers map them:
    full-width letters and dots (NFKC; the ideographic full stop is a dot), a
    backslash for a slash, punycode labels decoded (``xn--wgv71a119e.jp`` is
    ``日本語.jp``; a label that does not decode stays as written), an IPv6 address
    in its compressed form, without a zone.

    >>> host_of("https://user:pw@News.Example.JP:8443/a?b=1"), host_of("http://[::1]:80/"), host_of("")
    ('news.example.jp', '::1', '')
    >>> host_of("http://[::1/"), host_of("example.jp/page"), host_of("http://example.jp./")
    ('', '', 'example.jp')
    >>> host_of("http://XN--WGV71A119E.jp/"), host_of("http://日本語.jp/"), host_of("http://ｅｘａｍｐｌｅ。ｊｐ/x")
    ('日本語.jp', '日本語.jp', 'example.jp')
    >>> host_of("http://xn--zz.example.jp/"), host_of("http://xn--strae-oqa.de/"), host_of("http://xn--mtk.jp/")
    ('xn--zz.example.jp', 'straße.de', '令和.jp')
    >>> host_of("http://ghp_ABC/def@github.com/"), host_of("http://host.jp\\@evil.jp/"), host_of("http://a b.jp/")
    ('', 'host.jp', '')
    >>> host_of("http://[FE80::0:1%25eth0]/"), host_of("http://" + "a" * 251 + ".jp/")
    ('fe80::1', '')
    """
    # The host is near the start: a longer URL cut here has a host of > 4,000
    # characters, which is no host either way (and nothing unbounded is scanned).
    url = url[:4096].replace("\\", "/")
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:  # an unclosed IPv6 bracket, a bad port
        return ""
    if len(host) > _MAX_HOST:
        return ""
    if ":" in host:  # an IPv6 literal (urlsplit took it from between brackets)
        try:
            return str(ipaddress.IPv6Address(host.split("%", 1)[0]))
        except ValueError:
            return ""
    if not host.isascii():
        host = unicodedata.normalize("NFKC", host).replace("\u3002", ".").replace("\uff61", ".")
    if "xn--" in host:
        host = ".".join(_decoded_label(label) for label in host.split("."))
    host = host.lower().rstrip(".")
    if not 0 < len(host) <= _MAX_HOST or "." not in host or not all(
            c in "-_." or unicodedata.category(c)[0] in "LMN" for c in host):
        return ""
    return host


def _decoded_label(label: str) -> str:
    """A punycode label decoded and mapped as a browser shows it (NFKC, lower case)."""
    if not label.startswith("xn--") or not label.isascii():
        return label
    try:
        return unicodedata.normalize("NFKC", label[4:].encode("ascii").decode("punycode")).lower()
    except UnicodeError:  # not valid punycode: shown as written
        return label


def crawl_month(date: str) -> str:
    """``YYYY-MM`` of an ISO 8601 capture date, or ``unknown``.

    >>> crawl_month("2024-05-01T00:00:00Z"), crawl_month(""), crawl_month("2024-13-01"), crawl_month("May 2024")
    ('2024-05', 'unknown', 'unknown', 'unknown')
    """
    month = date[:7]
    if len(month) == 7 and month[4] == "-" and month[:4].isascii() and month[:4].isdigit() \
            and month[5:].isascii() and month[5:].isdigit() and 1 <= int(month[5:]) <= 12:
        return month
    return "unknown"


def langid_keys(d: Doc) -> Iterable[tuple[tuple, int]]:
    yield ("hist", "lang_score", bucket(LANG_SCORE_EDGES, d.lang_score, closed=True)), 1


def boilerplate_keys(d: Doc) -> Iterable[tuple[tuple, int]]:
    """What the ``site_boilerplate`` step removed from one document it kept."""
    lines = int(d.scores.get("site_boilerplate.lines_removed", 0))
    if lines:
        yield ("boilerplate", "documents_changed"), 1
        yield ("boilerplate", "lines_removed"), lines
        yield ("boilerplate", "chars_removed"), int(d.scores.get("site_boilerplate.chars_removed", 0))


def cluster_keys(row: dict) -> Iterable[tuple[tuple, int]]:
    # One row per member: a cluster of size s contributes s rows.
    yield ("cluster_rows", row["kind"], int(row["size"])), 1


# --- assembling stats.json --------------------------------------------------

def build_funnel(records_in: int, reject_counts: dict[tuple[str, str, str], int],
                 steps: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Per-step funnel rows ``{stage, filter, in, kept, dropped}``.

    Args:
        records_in: input records (Records + read rejects).
        reject_counts: ``(stage, filter, reason) -> count``.
        steps: ``(stage, filter)`` in execution order, starting with read.

    >>> build_funnel(10, {("read", "read", "not_response"): 4, ("filter", "length", "too_short"): 1},
    ...              [("read", "read"), ("filter", "length")])[1]
    {'stage': 'filter', 'filter': 'length', 'in': 6, 'kept': 5, 'dropped': {'too_short': 1}}
    """
    rows = []
    n = records_in
    for stage, name in steps:
        dropped = {reason: c for (s, f, reason), c in sorted(reject_counts.items()) if s == stage and f == name}
        kept = n - sum(dropped.values())
        rows.append({"stage": stage, "filter": name, "in": n, "kept": kept, "dropped": dropped})
        n = kept
    return rows


def assemble_stats(pairs: Iterable[tuple[tuple, int]], base: dict[str, Any],
                   steps: list[tuple[str, str]], hosts: dict[str, Any] | None = None) -> dict[str, Any]:
    """Turns the summed ``(key, count)`` pairs (and ``TopHosts``' summary) into
    the ``stats.json`` document."""
    reject_counts: dict[tuple[str, str, str], int] = {}
    hist: dict[str, dict[int, int]] = {"n_chars": {}, "lang_score": {}}
    pii: dict[str, int] = {}
    cluster_rows: dict[tuple[str, int], int] = {}
    boilerplate = dict.fromkeys(("documents_changed", "lines_removed", "chars_removed"), 0)
    totals = dict.fromkeys(("chars", "tokens"), 0)
    months: dict[str, int] = {}
    docs = records_read = duplicate_ids = 0
    for key, count in pairs:
        kind = key[0]
        if kind == "records":
            records_read = count
        elif kind == "reject":
            reject_counts[(key[1], key[2], key[3])] = count
        elif kind == "documents":
            docs = count
        elif kind == "hist":
            hist[key[1]][key[2]] = count
        elif kind == "pii":
            pii[key[1]] = count
        elif kind == "cluster_rows":
            cluster_rows[(key[1], key[2])] = count
        elif kind == "duplicate_ids":
            duplicate_ids = count
        elif kind == "boilerplate":
            boilerplate[key[1]] = count
        elif kind == "total":
            totals[key[1]] = count
        elif kind == "crawl_month":
            months[key[1]] = count
    rejected = sum(reject_counts.values())
    read_rejects = sum(c for (s, _, _), c in reject_counts.items() if s == "read")
    records_in = records_read + read_rejects
    # Reject stages that the config did not list (defensive: nothing may vanish).
    known = set(steps)
    extra = sorted({(s, f) for (s, f, _) in reject_counts if (s, f) not in known})
    funnel = build_funnel(records_in, reject_counts, list(steps) + extra)
    sizes: dict[str, dict[str, int]] = {}
    for (kind, size), rows in sorted(cluster_rows.items()):
        sizes.setdefault(kind, {})[str(size)] = rows // size
    out = copy.deepcopy(base)
    out.update(
        records_in=records_in,
        documents_out=docs,
        rejected=rejected,
        accounted=records_in == docs + rejected,
        # Documents whose id repeats another's (ids should be unique; see pipeline.run).
        duplicate_ids=duplicate_ids,
        # Of the documents kept: characters (code points) and Sudachi tokens.
        totals=totals,
        # Of the documents kept: how many per capture month (``unknown``: no ISO date).
        crawl_months=dict(sorted(months.items())),
        # Of the documents kept: how many hosts, the largest, and documents without one.
        hosts=hosts if hosts is not None else TopHosts().extract_output(TopHosts().create_accumulator()),
        funnel=funnel,
        reasons=[
            {"stage": s, "filter": f, "reason": r, "count": c} for (s, f, r), c in sorted(reject_counts.items())
        ],
        pii=dict(sorted(pii.items())),
        histograms={
            "n_chars": {"edges": N_CHARS_EDGES, "counts": [hist["n_chars"].get(i, 0) for i in range(len(N_CHARS_EDGES))]},
            "lang_score": {"edges": LANG_SCORE_EDGES,
                           "counts": [hist["lang_score"].get(i, 0) for i in range(len(LANG_SCORE_EDGES) - 1)]},
            "cluster_size": {k: v for kind in sorted(sizes) for k, v in sizes[kind].items()} if len(sizes) <= 1
            else {f"{kind}:{k}": v for kind in sorted(sizes) for k, v in sizes[kind].items()},
            "cluster_size_by_kind": sizes,
        },
    )
    if any(name == "site_boilerplate" for _, name in steps):
        out["site_boilerplate"] = boilerplate
    if "dedup" in out:
        out["dedup"]["clusters"] = sum(sum(v.values()) for v in sizes.values())
    return out


SCHEMA_VERSIONS = {
    "documents": documents.SCHEMA_VERSION,
    "rejects": rejects.SCHEMA_VERSION,
    "clusters": clusters.SCHEMA_VERSION,
    "stats": stats.SCHEMA_VERSION,
}


def stats_rows(stats_doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of ``stats.parquet``: one per (stage, filter, reason), plus ``kept`` rows."""
    rows = []
    for f in stats_doc["funnel"]:
        rows.append({"stage": f["stage"], "filter": f["filter"], "reason": "kept", "count": f["kept"]})
        for reason, c in f["dropped"].items():
            rows.append({"stage": f["stage"], "filter": f["filter"], "reason": reason, "count": c})
    return rows


# Counter (microseconds) of worker time per step, in each step's metrics namespace.
STEP_TIME_METRIC = "time_us"


def step_namespace(stage: str, name: str) -> str:
    """The metrics namespace of a step (its counters) and of its funnel row.

    >>> step_namespace("filter", "length"), step_namespace("tokenize", "tokenize")
    ('furui.filter.length', 'furui.tokenize')
    """
    return f"furui.filter.{name}" if stage == "filter" else f"furui.{stage}"


def step_times(result, metric: str = STEP_TIME_METRIC) -> dict[str, float]:
    """Worker seconds per step namespace from a finished run's ``time_us`` counters.

    Summed over workers (CPU-side time, not wall time). Empty when the runner
    reports no metrics. Timing never enters stats.json: it differs between runs.
    """
    from apache_beam.metrics.metric import MetricsFilter

    try:
        counters = result.metrics().query(MetricsFilter().with_name(metric))["counters"]
    except Exception:  # a runner without metrics support
        return {}
    out: dict[str, float] = {}
    for c in counters:
        value = c.committed if c.committed is not None else c.attempted
        ns = c.key.metric.namespace
        out[ns] = out.get(ns, 0.0) + (value or 0) / 1e6
    return out


def format_funnel(stats_doc: dict[str, Any], times: dict[str, float] | None = None) -> str:
    """A plain-text funnel table for the terminal.

    With ``times`` (:func:`step_times`) it adds each step's worker seconds and
    microseconds per document entering the step.

    >>> doc = {"funnel": [{"stage": "filter", "filter": "length", "in": 4, "kept": 3,
    ...                    "dropped": {"too_short": 1}}],
    ...        "records_in": 4, "documents_out": 3, "rejected": 1, "accounted": True}
    >>> print(format_funnel(doc, {"furui.filter.length": 0.002}))
    stage       step                          in      kept   time s    us/doc  dropped
    filter      length                         4         3    0.002       500  too_short=1
    records in: 4  documents out: 3  rejected: 1  accounted: yes
    """
    timed = bool(times)
    head = f"{'stage':<11} {'step':<22} {'in':>9} {'kept':>9}"
    lines = [head + (f" {'time s':>8} {'us/doc':>9}" if timed else "") + "  dropped"]
    for f in stats_doc["funnel"]:
        dropped = ", ".join(f"{r}={c}" for r, c in f["dropped"].items()) or "-"
        row = f"{f['stage']:<11} {f['filter']:<22} {f['in']:>9} {f['kept']:>9}"
        if timed:
            t = times.get(step_namespace(f["stage"], f["filter"]))
            if t is None:
                row += f" {'-':>8} {'-':>9}"
            else:
                row += f" {t:>8.3f} {(1e6 * t / f['in'] if f['in'] else 0):>9.0f}"
        lines.append(f"{row}  {dropped}")
    lines.append(
        f"records in: {stats_doc['records_in']}  documents out: {stats_doc['documents_out']}  "
        f"rejected: {stats_doc['rejected']}  accounted: {'yes' if stats_doc['accounted'] else 'NO'}"
    )
    if stats_doc.get("duplicate_ids"):
        lines.append(f"WARNING: {stats_doc['duplicate_ids']} documents repeat another document's id; ids must be "
                     "unique within a run (give JSONL inputs unique ids, or leave the id out)")
    return "\n".join(lines)


def _add_pairs(pairs: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """Sums ``(documents, chars)`` pairs (a host's partial sums).

    >>> _add_pairs([(1, 10), (2, 5)])
    (3, 15)
    """
    docs = chars = 0
    for d, c in pairs:
        docs += d
        chars += c
    return docs, chars


def _is_host_key(pair: tuple[tuple, Any], _n: int) -> int:
    return 1 if pair[0][0] == "host" else 0


class TopHosts(beam.CombineFn):
    """``(("host", host), (documents, chars))`` per host -> the number of hosts, the
    ``n`` with the most documents (ties: more characters, then the host's name) and
    the documents without a host. A worker holds at most ``2 n`` hosts.

    >>> fn = TopHosts(2)
    >>> acc = fn.create_accumulator()
    >>> for pair in [(("host", "a.jp"), (3, 9)), (("host", "b.jp"), (5, 1)), (("host", ""), (4, 4)),
    ...              (("host", "c.jp"), (3, 10))]:
    ...     acc = fn.add_input(acc, pair)
    >>> fn.extract_output(fn.merge_accumulators([acc, fn.create_accumulator()]))["top"]
    [{'host': 'b.jp', 'documents': 5, 'chars': 1}, {'host': 'c.jp', 'documents': 3, 'chars': 10}]
    """

    def __init__(self, n: int = TOP_HOSTS):
        self.n = n

    @staticmethod
    def _rank(entry: tuple[int, int, str]) -> tuple[int, int, str]:
        return (-entry[0], -entry[1], entry[2])

    def _trim(self, top: list) -> list:
        return heapq.nsmallest(self.n, top, key=self._rank) if len(top) > 2 * self.n else top

    def create_accumulator(self):
        # (hosts, documents without a host, characters of those, top entries)
        return (0, 0, 0, [])

    def add_input(self, acc, pair):
        (_, host), (docs, chars) = pair
        hosts, none_docs, none_chars, top = acc
        if not host:
            return (hosts, none_docs + docs, none_chars + chars, top)
        top.append((docs, chars, host))
        return (hosts + 1, none_docs, none_chars, self._trim(top))

    def merge_accumulators(self, accs):
        hosts = none_docs = none_chars = 0
        top: list = []
        for h, nd, nc, t in accs:
            hosts, none_docs, none_chars = hosts + h, none_docs + nd, none_chars + nc
            top = self._trim(top + list(t))
        return (hosts, none_docs, none_chars, top)

    def extract_output(self, acc):
        hosts, none_docs, none_chars, top = acc
        return {
            "distinct": hosts,
            "top": [{"host": h, "documents": d, "chars": c}
                    for d, c, h in heapq.nsmallest(self.n, top, key=self._rank)],
            "without_host": {"documents": none_docs, "chars": none_chars},
        }


class ComputeStats(beam.PTransform):
    """Sums the statistics keys of every branch into one ``stats.json`` dict.

    Input: a PCollection of ``(key, count)`` pairs (already flattened from the
    branches). The combiner lifts partial sums onto each worker, so only the
    distinct keys (a few hundred) are shuffled and collected. Host keys (one per
    host, ``(documents, chars)`` values) are summed apart and reduced by
    ``TopHosts``, so no list of hosts is ever collected.
    """

    def __init__(self, base: dict[str, Any], steps: list[tuple[str, str]], top_hosts: int = TOP_HOSTS):
        super().__init__()
        self.base = base
        self.steps = steps
        self.top_hosts = top_hosts

    def expand(self, pairs):
        base, steps = self.base, self.steps
        counts, host_pairs = pairs | "SplitHosts" >> beam.Partition(_is_host_key, 2)
        hosts = (host_pairs
                 | "PerHost" >> beam.CombinePerKey(_add_pairs)
                 | "Hosts" >> beam.CombineGlobally(TopHosts(self.top_hosts)))
        return (
            counts
            | "Sum" >> beam.CombinePerKey(sum)
            | "Collect" >> beam.combiners.ToList()  # only the aggregated keys, bounded
            | "Assemble" >> beam.Map(assemble_stats, base, steps, hosts=beam.pvalue.AsSingleton(hosts))
        )


def dumps(stats_doc: dict[str, Any]) -> str:
    """Serialises stats deterministically."""
    return json.dumps(stats_doc, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
