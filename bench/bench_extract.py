"""Extraction options: what ``[extract] fast`` saves and what it changes.

Usage: ``python bench/bench_extract.py [--repeat 2] [--livedoor 500]``

trafilatura runs readability on every page (and jusText on short ones) and keeps
their text when its own looks worse, unless ``fast`` is set. This script extracts
the same pages both ways with furui's extractor (in process, so the time is
trafilatura's and the charset-independent preprocessing, not the child's IPC) and
prints, per group of pages:

* CPU seconds each way (best of ``--repeat``, the options alternating);
* how many pages come out different, and their characters each way;
* on trafilatura's own gold set (``html/trafilatura-eval/gold_subset.json``:
  snippets that must and must not be in each page's text), precision, recall and
  F1 each way, as trafilatura's evaluation counts them.

Pages: the WARCs and HTML files under ``../shared/data`` (groups that are absent
are skipped) and, when ``bench/bench_e2e.py`` has built it, the first
``--livedoor`` pages of its livedoor-in-template input. ``--show N`` prints the
lines only one side has for the first N differing pages, to judge them.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
E2E_INPUT = ROOT / "bench" / "work" / "e2e-2000-s8"
GOLD = SHARED / "html" / "trafilatura-eval"


def load_pages(livedoor: int) -> list[tuple[str, str, str]]:
    """``(group, html, url)`` of every page found."""
    from pipeline.extract import decode_html
    from pipeline.readers import read_records
    from schemas.records import Record

    pages: list[tuple[str, str, str]] = []

    def from_warcs(paths, group, limit=None):
        n = 0
        for path in paths:
            with open(path, "rb") as fh:
                for r in read_records(fh, path):
                    if isinstance(r, Record) and r.kind == "html":
                        if limit is not None and n >= limit:
                            return
                        pages.append((group, decode_html(r.payload, r.content_type)[0], r.url))
                        n += 1

    if livedoor and E2E_INPUT.is_dir():
        from_warcs(sorted(map(str, E2E_INPUT.glob("livedoor-*.warc.gz"))), "livedoor in templates", livedoor)
    from_warcs(sorted(glob.glob(str(SHARED / "warc" / "**" / "*.warc*"), recursive=True)), "shared WARCs")
    for group in ("debian-docs", "aozora2html", "uzushio", "trafilatura-eval"):
        for path in sorted(glob.glob(str(SHARED / "html" / group / "**" / "*"), recursive=True)):
            if os.path.isfile(path) and path.endswith((".html", ".htm", ".xhtml")):
                with open(path, "rb") as fh:
                    pages.append((group, decode_html(fh.read(), "text/html")[0], ""))
    return pages


def gold_scores(extractor) -> tuple[float, float, float] | None:
    """trafilatura's evaluation: a ``with`` snippet found is a true positive, one
    missing a false negative; a ``without`` snippet found is a false positive."""
    from pipeline.extract import decode_html

    gold_file = GOLD / "gold_subset.json"
    if not gold_file.exists():
        return None
    gold = json.loads(gold_file.read_text(encoding="utf-8"))
    tp = fn = fp = 0
    for url, g in gold.items():
        with open(GOLD / "eval" / g["file"], "rb") as fh:
            text = extractor.extract(decode_html(fh.read(), "text/html")[0], url) or ""
        tp += sum(s in text for s in g["with"])
        fn += sum(s not in text for s in g["with"])
        fp += sum(s in text for s in g["without"])
    p, r = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return p, r, 2 * p * r / max(1e-9, p + r)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--livedoor", type=int, default=500, help="pages of bench_e2e's input, if built")
    ap.add_argument("--show", type=int, default=0, help="print the differing lines of the first N pages")
    args = ap.parse_args()

    import logging

    logging.disable(logging.WARNING)  # trafilatura's per-page parser warnings
    from pipeline.extract import ExtractOptions, Extractor

    pages = load_pages(args.livedoor)
    if not pages:
        sys.exit(f"no pages found under {SHARED} or {E2E_INPUT}")
    groups = list(dict.fromkeys(g for g, _, _ in pages))
    systems = {"default": Extractor(ExtractOptions(), isolate=False),
               "fast": Extractor(ExtractOptions(fast=True), isolate=False)}
    cpu = {name: dict.fromkeys(groups, float("inf")) for name in systems}
    texts: dict[str, list[str]] = {}
    for _ in range(args.repeat):
        for name, ex in systems.items():
            spent = dict.fromkeys(groups, 0.0)
            out = []
            for group, html, url in pages:
                t0 = time.process_time()
                out.append(ex.extract(html, url))
                spent[group] += time.process_time() - t0
            texts[name] = out
            for group in groups:
                cpu[name][group] = min(cpu[name][group], spent[group])

    print(f"{len(pages)} pages; CPU s best of {args.repeat}, options alternating")
    print(f"{'group':<22} {'pages':>6} {'default s':>10} {'fast s':>8} {'saved':>6} {'differ':>7} "
          f"{'chars default':>14} {'chars fast':>11}")
    totals = [0, 0.0, 0.0, 0, 0, 0]
    for group in groups:
        idx = [i for i, (g, _, _) in enumerate(pages) if g == group]
        differ = [i for i in idx if texts["default"][i] != texts["fast"][i]]
        row = [len(idx), cpu["default"][group], cpu["fast"][group], len(differ),
               sum(len(texts["default"][i]) for i in idx), sum(len(texts["fast"][i]) for i in idx)]
        totals = [a + b for a, b in zip(totals, row)]
        print(f"{group:<22} {row[0]:>6} {row[1]:>10.2f} {row[2]:>8.2f} {1 - row[2] / row[1]:>6.0%} {row[3]:>7} "
              f"{row[4]:>14,} {row[5]:>11,}")
    print(f"{'all':<22} {totals[0]:>6} {totals[1]:>10.2f} {totals[2]:>8.2f} {1 - totals[2] / totals[1]:>6.0%} "
          f"{totals[3]:>7} {totals[4]:>14,} {totals[5]:>11,}")
    for name, ex in systems.items():
        scores = gold_scores(ex)
        if scores:
            print(f"trafilatura gold set, {name}: precision {scores[0]:.3f} recall {scores[1]:.3f} F1 {scores[2]:.3f}")
    shown = 0
    for i, (group, _, url) in enumerate(pages):
        a, b = texts["default"][i], texts["fast"][i]
        if a == b or shown >= args.show:
            continue
        shown += 1
        only_a = [line for line in a.split("\n") if line not in set(b.split("\n"))]
        only_b = [line for line in b.split("\n") if line not in set(a.split("\n"))]
        print(f"--- {group} #{i} {url}: default {len(a):,} chars, fast {len(b):,}")
        print("  only default:", " / ".join(only_a)[:300])
        print("  only fast:   ", " / ".join(only_b)[:300])
    for ex in systems.values():
        ex.close()


if __name__ == "__main__":
    main()
