"""Memory of one shard write: how much a worker holds to write one documents or rejects shard.

A shard is sized from an estimate of its rows' size in Arrow (``[output]
shard_bytes``, default 256 MB; ``pipeline.run._text_size``/``_small_size``), and
the shard writer holds what it needs to write it. This measures, in a fresh process per case, the
peak resident memory the writer's ``process`` adds on top of its input, and the
time it takes, for one shard of ``--docs`` documents (livedoor articles with ~55
scores each, as the pipeline writes them) and one of ``--rejects`` reject rows.

The grouped input is re-iterable and built lazily, as a runner's grouped values
are (Dataflow and Flink page them in): the texts themselves are the baseline.

  python bench/bench_write.py [--docs 20000] [--rejects 200000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LIVEDOOR = Path(os.environ.get("FURUI_SHARED_DATA", ROOT.parent / "shared" / "data")) / "text" / "livedoor-news-corpus"


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Lazy:
    """Re-iterable grouped values built on the fly (as a runner pages them in)."""

    def __init__(self, n: int, make):
        self.n, self.make = n, make

    def __iter__(self):
        for i in range(self.n):
            yield self.make(i)


def _texts(limit: int) -> list[str]:
    files = sorted(p for p in LIVEDOOR.glob("*/*.txt") if p.name != "LICENSE.txt")[:limit]
    return ["\n".join(p.read_text(encoding="utf-8").split("\n")[3:]) for p in files]


def case(kind: str, n: int) -> dict:
    from dedup.params import DedupParams
    from pipeline import run as run_mod
    from pipeline.write import _WriteDedupShardFn, _WriteShardFn
    from schemas import documents as documents_schema
    from schemas import rejects as rejects_schema
    from schemas.records import Doc, Reject

    score_keys = [f"filter.step{k // 4}.measure{k % 4}" for k in range(55)]
    out_dir = tempfile.mkdtemp(prefix="furui-bench-write-")
    meta = {"config_sha256": "x" * 64, "furui_version": "bench"}
    if kind == "documents":
        texts = _texts(2000)

        def make(i: int):
            text = texts[i % len(texts)] + f"\n{i}"
            return ("doc", Doc(id=f"<urn:uuid:{i:036d}>", url=f"https://news.example.jp/article/{i}",
                               source="s3://bucket/crawl/CC-MAIN-2024-10/segments/x/warc/part-00001.warc.gz",
                               crawl_date="2024-03-01T12:34:56Z", text=text, charset="utf-8", lang="ja",
                               lang_score=0.99, n_chars=len(text), n_tokens=len(text) // 2, quality=0.99,
                               scores={k: 0.123456 * (i % 7) for k in score_keys}, pii={"email": 1}))

        items = _Lazy(n, make)
        fn = _WriteDedupShardFn("documents", documents_schema.SCHEMA, out_dir, meta, "zstd", 3, 1 << 62, 64_000_000,
                                run_mod._text_size, to_row=run_mod._doc_row, stat_keys=lambda d: (),
                                keeper=DedupParams().keeper)
        estimate = sum(run_mod._text_size(make(i)[1]._asdict()) for i in range(n))
    else:
        def make(i: int):
            return run_mod._reject_row(Reject(
                id=f"<urn:uuid:{i:036d}>", url=f"https://shop.example.com/item/{i}?ref=top",
                source="s3://bucket/crawl/CC-MAIN-2024-10/segments/x/warc/part-00001.warc.gz", stage="filter",
                filter="hiragana_ratio", reason="too_few_hiragana", detail="",
                scores={"hiragana_ratio.ratio": 0.05, "hiragana_ratio.chars": 812.0}, dup_of="", n_chars=812))

        items = _Lazy(n, make)
        fn = _WriteShardFn("rejects", rejects_schema.SCHEMA, out_dir, meta, "zstd", 3, 1 << 62, 64_000_000,
                           run_mod._small_size)
        estimate = sum(run_mod._small_size(make(i)) for i in range(n))
    fn.setup() if hasattr(fn, "setup") else None
    base = _rss_mb()
    t0 = time.perf_counter()
    outs = list(fn.process((0, items), (n, estimate)))
    seconds = time.perf_counter() - t0
    peak = _peak_mb()
    files = [o for o in outs if isinstance(o, str)]
    size = sum(os.path.getsize(f) for f in files)
    return {"kind": kind, "rows": n, "estimate_mb": estimate / 1e6, "parquet_mb": size / 1e6,
            "added_peak_mb": peak - base, "seconds": seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=20_000)
    ap.add_argument("--rejects", type=int, default=200_000)
    ap.add_argument("--case", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        kind, n = args.case.split(":")
        print(json.dumps(case(kind, int(n))))
        return
    if not LIVEDOOR.is_dir():
        sys.exit(f"livedoor texts not found under {LIVEDOOR} (set FURUI_SHARED_DATA)")
    print(f"{'shard':<10}{'rows':>9}{'estimate MB':>13}{'parquet MB':>12}{'added peak MB':>15}{'x estimate':>12}{'s':>7}")
    for kind, n in (("documents", args.docs), ("rejects", args.rejects)):
        res = subprocess.run([sys.executable, __file__, "--case", f"{kind}:{n}"], capture_output=True, text=True,
                             check=True)
        r = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"{kind:<10}{r['rows']:>9,}{r['estimate_mb']:>13.1f}{r['parquet_mb']:>12.1f}{r['added_peak_mb']:>15.0f}"
              f"{r['added_peak_mb'] / r['estimate_mb']:>12.1f}{r['seconds']:>7.1f}")


if __name__ == "__main__":
    main()
