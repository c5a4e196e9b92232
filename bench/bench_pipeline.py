"""Pipeline benchmark: per-stage and end-to-end throughput.

Inputs:
  * the bundled sample (pipeline/resources/sample.warc.gz);
  * the Japanese pages of ../shared/data/html/debian-docs, wrapped by this script
    into a WARC (bench/work/debian-ja.warc.gz) so the reader path is real.

Per stage, each step's Beam-free logic runs in one process over every record
(read -> extract -> each configured step -> dedup signatures), timed
separately: this is where a worker's CPU goes. End to end, ``furui run`` runs
with one worker (in_memory) and with all cores (multi_processing).

Usage: python bench/bench_pipeline.py [--skip-e2e] [--repeat N]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
WORK = REPO / "bench" / "work"
SHARED = Path(os.environ.get("FURUI_SHARED_DATA", REPO.parent / "shared" / "data"))


def debian_ja_warc() -> Path | None:
    """Wraps the Japanese debian-docs pages into a WARC (once)."""
    labels_path = SHARED / "html" / "debian-docs" / "lang_labels.json"
    if not labels_path.exists():
        return None
    out = WORK / "debian-ja.warc.gz"
    if out.exists():
        return out
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    labels = json.loads(labels_path.read_text())
    WORK.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for rel, info in sorted(labels.items()):
            if info.get("script_heuristic_lang") != "ja":
                continue
            body = (SHARED / rel).read_bytes()
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            url = "https://debian.example/" + rel.split("/usr/share/", 1)[-1]
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                          http_headers=headers))
    return out


def per_stage(path: Path) -> dict:
    """Times each stage's logic over every record of ``path`` in this process."""
    from pipeline.config import load_config
    from pipeline.extract import ExtractOptions, Extractor, decode_html
    from pipeline.readers import read_records
    from schemas.records import Doc, Record

    cfg = load_config()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with open(path, "rb") as fh:
        records = [r for r in read_records(fh, str(path)) if isinstance(r, Record)]
    timings["read"] = time.perf_counter() - t0
    in_bytes = sum(len(r.payload) for r in records)
    extractor = Extractor(ExtractOptions(cfg.extract.favor, cfg.extract.include_tables), isolate=False)
    docs = []
    t0 = time.perf_counter()
    for r in records:
        html, charset = decode_html(r.payload, r.content_type)
        text = extractor.extract(html, r.url) if r.kind == "html" else html
        if text.strip():
            docs.append(Doc(id=r.id, url=r.url, source=r.source, crawl_date=r.crawl_date, text=text,
                            charset=charset, n_chars=len(text)))
    timings["extract"] = time.perf_counter() - t0
    n_extracted = len(docs)
    for step in cfg.steps:
        step.load()
        t0 = time.perf_counter()
        kept = []
        for d in docs:
            new, scores = step.apply(d)
            if step.decide(scores) is None:
                kept.append(new)
        timings[f"{step.stage}/{step.name}"] = time.perf_counter() - t0
        # Keep measuring later steps on every extracted document, not only survivors,
        # unless the step drops nearly everything (then later steps see the survivors).
        docs = kept if len(kept) >= 0.5 * len(docs) else [step.apply(d)[0] for d in docs]
    if cfg.dedup is not None:
        try:
            from dedup import minhash  # noqa: F401
            from dedup.shingle import char_shingles  # noqa: F401
        except ImportError:
            pass
    return {"records": len(records), "docs": n_extracted, "input_mb": in_bytes / 1e6, "seconds": timings}


def end_to_end(path: Path, workers: int) -> dict:
    out = WORK / f"e2e-{path.stem}-{workers}"
    mode = ["--direct_running_mode=in_memory", "--direct_num_workers=1"] if workers == 1 else [
        "--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]
    cmd = [sys.executable, "-m", "pipeline.cli", "run", str(path), "--output", str(out), *mode]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    stats = json.loads((out / "stats.json").read_text())
    return {"wall_s": wall, "records": stats["records_in"], "documents": stats["documents_out"],
            "peak_rss_mb_children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-e2e", action="store_true")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    inputs = [REPO / "pipeline" / "resources" / "sample.warc.gz"]
    deb = debian_ja_warc()
    if deb:
        inputs.append(deb)
    print(f"# furui pipeline benchmark  {time.strftime('%Y-%m-%d')}  {platform.processor() or platform.machine()}  "
          f"{os.cpu_count()} cores  python {platform.python_version()}")
    for path in inputs:
        if not path.exists():
            print(f"skip {path}: missing")
            continue
        res = per_stage(path)
        total = sum(res["seconds"].values())
        print(f"\n## {path.name}: {res['records']} HTML/text records, {res['docs']} with text, {res['input_mb']:.1f} MB")
        print(f"{'stage':<28}{'seconds':>9}{'docs/s':>10}{'MB/s':>8}{'share':>8}")
        for stage, s in res["seconds"].items():
            n = res["records"] if stage in ("read", "extract") else res["docs"]
            print(f"{stage:<28}{s:>9.3f}{n / s if s else 0:>10.0f}{res['input_mb'] / s if s else 0:>8.2f}"
                  f"{100 * s / total:>7.1f}%")
        print(f"{'all stages (1 core)':<28}{total:>9.3f}{res['records'] / total:>10.1f}{res['input_mb'] / total:>8.2f}")
        if not args.skip_e2e:
            for workers in (1, os.cpu_count() or 1):
                walls = [end_to_end(path, workers) for _ in range(args.repeat)]
                w = sorted(x["wall_s"] for x in walls)[len(walls) // 2]
                e = walls[0]
                print(f"end to end, {workers} worker(s): {w:.1f}s wall, {e['records'] / w:.1f} records/s, "
                      f"{res['input_mb'] / w:.2f} MB/s, {e['documents']} documents out")


if __name__ == "__main__":
    main()
