"""Benchmark of the dedup stage: signature throughput and end-to-end Beam cost.

Usage (from the repository root)::

    python bench/bench_dedup.py                 # everything
    python bench/bench_dedup.py --part sig      # signatures only
    python bench/bench_dedup.py --part e2e --sizes 1000 10000 50000

Corpus: livedoor news articles read at run time (never copied). The end-to-end
corpus of size N is made of N/7 *families*: one article plus 6 in-memory
edited variants (``tests/dedup/planted.py``: inserted sentences, deleted spans,
boilerplate, swapped paragraphs, character substitutions), so the duplicate
rate is the same at every size. Articles are reused cyclically with a
different edit seed when N/7 exceeds the 7,367 articles.

Each end-to-end size runs in a fresh subprocess so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(os.environ.get("FURUI_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / "text" / "livedoor-news-corpus"
VARIANTS = 6


def _articles():
    from tests.dedup.planted import livedoor_files, read_article

    return [read_article(p) for p in livedoor_files(ROOT)]


def bench_signatures() -> dict:
    import numpy as np
    from datasketch import MinHash

    from dedup.minhash import signatures
    from dedup.shingle import shingles

    arts = _articles()
    out = {}
    long = [a for a in arts if 1900 <= len(a) <= 2300]  # ~2,000 shingles per document
    for name, texts in (("livedoor_all", arts), ("livedoor_2000_shingles", long)):
        n_sh = float(np.mean([max(0, len(t) - 4) for t in texts]))
        signatures(texts[:256])  # warm-up (probe tables, permutations)
        runs = []
        load_before = os.getloadavg()[0]
        for _ in range(3):
            t = time.perf_counter()
            signatures(texts, num_perm=128, seed=1, method="oph")
            runs.append(len(texts) / (time.perf_counter() - t))
        best = max(runs)
        load_after = os.getloadavg()[0]
        sub = texts[:500]
        t = time.perf_counter()
        signatures(sub, num_perm=128, seed=1, method="datasketch")
        ds_mode = len(sub) / (time.perf_counter() - t)
        t = time.perf_counter()
        for x in sub:
            m = MinHash(num_perm=128, seed=1)
            m.update_batch([s.encode("utf-8") for s in shingles(x, 5)])
        ds = len(sub) / (time.perf_counter() - t)
        out[name] = {
            "docs": len(texts),
            "mean_shingles_per_doc": round(n_sh),
            "oph_docs_per_s": round(best),
            "oph_runs_docs_per_s": [round(r) for r in runs],
            "loadavg_1min_before_after": [round(load_before, 2), round(load_after, 2)],
            "datasketch_mode_docs_per_s": round(ds_mode),
            "datasketch_update_batch_docs_per_s": round(ds),
            "speedup_vs_datasketch": round(best / ds, 1),
        }
    return out


def build_e2e_docs(n: int):
    import random

    from schemas.records import Doc
    from tests.dedup.planted import edit

    arts = _articles()
    rng = random.Random(n)
    docs = []
    fam = 0
    while len(docs) < n:
        base = arts[fam % len(arts)]
        if fam >= len(arts):  # second pass over the corpus: make the "original" differ too
            base = edit(base, arts[(fam * 13) % len(arts)], rng, 3)
        group = [base] + [edit(base, arts[(fam * 7 + v) % len(arts)], rng, rng.randint(1, 4)) for v in range(VARIANTS)]
        for v, text in enumerate(group):
            if len(docs) < n:
                docs.append(Doc(id=f"d{fam:06d}-{v}", url="", source="bench", crawl_date=rng.choice(["", "2012-05-01"]),
                                text=text, n_chars=len(text), quality=rng.random()))
        fam += 1
    return docs


def run_e2e_child(n: int) -> dict:
    import apache_beam as beam
    from apache_beam.metrics.metric import MetricsFilter
    from apache_beam.options.pipeline_options import PipelineOptions

    from dedup.params import DedupParams
    from pipeline.dedup import Deduplicate

    docs = build_e2e_docs(n) if n else []
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    p = beam.Pipeline(options=PipelineOptions(["--runner=pipeline.runner.LocalRunner", "--direct_running_mode=in_memory"]))
    res = p | beam.Create(docs, reshuffle=False) | Deduplicate(DedupParams())
    for k in ("kept", "rejected", "clusters"):
        _ = res[k] | f"Count{k}" >> beam.combiners.Count.Globally() | f"Out{k}" >> beam.Map(lambda c: None)
    result = p.run()
    result.wait_until_finish()
    wall = time.perf_counter() - t
    counters = {}
    for m in result.metrics().query(MetricsFilter().with_namespace("furui.dedup"))["counters"]:
        counters[m.key.metric.name] = counters.get(m.key.metric.name, 0) + m.committed
    return {
        "docs": n,
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_before_run_mb": round(rss_before / 1024),
        "counters": counters,
    }


def bench_e2e(sizes) -> list:
    rows = []
    for n in [0] + list(sizes):
        cp = subprocess.run([sys.executable, __file__, "--child", str(n)], capture_output=True, text=True)
        if cp.returncode:
            raise RuntimeError(cp.stderr[-3000:])
        row = json.loads(cp.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(json.dumps(row), flush=True)
    base = rows[0]["wall_s"]
    for r in rows[1:]:
        r["ms_per_doc"] = round(1000 * r["wall_s"] / r["docs"], 3)
        r["marginal_ms_per_doc"] = round(1000 * (r["wall_s"] - base) / r["docs"], 3)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=["sig", "e2e", "all"], default="all")
    ap.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 50000])
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child is not None:
        print(json.dumps(run_e2e_child(a.child)))
        return
    if not ROOT.exists():
        sys.exit(f"livedoor corpus not found under {ROOT}")
    report = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count()}
    if a.part in ("sig", "all"):
        report["signatures"] = bench_signatures()
        print(json.dumps(report["signatures"], indent=1), flush=True)
    if a.part in ("e2e", "all"):
        report["e2e"] = bench_e2e(a.sizes)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
