"""Per-document steps: interleaved with extraction vs step-major batches, and the
cost/effect of the sampling knobs (``langid max_chars``, ``tokenize max_chars``).

Beam-free replay over the issue-7 input (``bench/work/e2e-2000-s8``, built by
``bench/bench_e2e.py --build-only``):

1. ``order``: the first 1,000 HTML pages are extracted in the isolated trafilatura
   child, and every configured step runs either right after each page
   (interleaved, as a one-document-at-a-time pipeline does) or over batches of 64
   documents, one step after the other (step-major, as the pipeline does now).
   Prints ms/doc per step for both.
2. ``knobs``: all pages are extracted, then LID runs with 4,000/2,000/1,000
   characters and Sudachi with the whole text/2,000/1,000 characters; prints
   ms/doc and how many keep/drop decisions differ from the exact defaults.

Usage: ``python bench/bench_step_order.py [order|knobs|all]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
INPUT = REPO / "bench" / "work" / "e2e-2000-s8"
BATCH = 64


def html_records():
    from pipeline.readers import read_records
    from schemas.records import Record

    for path in sorted(INPUT.glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for r in read_records(fh, str(path)):
                if isinstance(r, Record) and r.kind == "html":
                    yield r


def _doc(r, text):
    from schemas.records import Doc

    return Doc(id=r.id, url=r.url, source="", crawl_date="", text=text)


def order(n_pages: int = 1000) -> None:
    from pipeline.config import load_config
    from pipeline.extract import ExtractOptions, Extractor, decode_html

    steps = load_config().steps
    for s in steps:
        s.load()
    pc = time.perf_counter

    def run(doc, acc):
        for s in steps:
            t0 = pc()
            doc, scores = s.apply(doc)
            reason = s.decide(scores)
            acc[s.name] = acc.get(s.name, 0.0) + pc() - t0
            if reason is not None:
                return

    ex = Extractor(ExtractOptions())
    docs, interleaved = [], {}
    for i, r in enumerate(html_records()):
        if i == n_pages:
            break
        html, _ = decode_html(r.payload, r.content_type)
        text = ex.extract(html, r.url)
        if text.strip():
            docs.append(_doc(r, text))
            run(docs[-1], interleaved)
    ex.close()
    batched: dict[str, float] = {}
    for i in range(0, len(docs), BATCH):
        alive = docs[i : i + BATCH]
        for s in steps:
            t0 = pc()
            kept = []
            for d in alive:
                d2, scores = s.apply(d)
                if s.decide(scores) is None:
                    kept.append(d2)
            batched[s.name] = batched.get(s.name, 0.0) + pc() - t0
            alive = kept
    n = len(docs)
    print(f"{n} documents; ms/doc per step: interleaved with extraction vs step-major batches of {BATCH}")
    for s in steps:
        print(f"  {s.name:<20}{1e3 * interleaved.get(s.name, 0) / n:8.3f}{1e3 * batched.get(s.name, 0) / n:8.3f}")
    print(f"  {'all steps':<20}{1e3 * sum(interleaved.values()) / n:8.3f}{1e3 * sum(batched.values()) / n:8.3f}")


def knobs() -> None:
    from filters.langid import LanguageId
    from filters.tokenize import SudachiTokenizer
    from pipeline.config import load_config
    from pipeline.extract import ExtractOptions, decode_html, extract_main_text

    cfg = load_config()
    norm = next(s for s in cfg.steps if s.name == "normalize")
    noun = next(s for s in cfg.steps if s.name == "noun_ratio")
    docs = []
    for r in html_records():
        html, _ = decode_html(r.payload, r.content_type)
        text = extract_main_text(html, r.url, ExtractOptions())
        if text.strip():
            docs.append(norm.apply(_doc(r, text))[0])
    print(f"{len(docs)} extracted documents, mean {sum(len(d.text) for d in docs) / len(docs):.0f} characters")
    lid = {}
    for mc in (4000, 2000, 1000):
        f = LanguageId(max_chars=mc)
        f.load()
        t0 = time.perf_counter()
        lid[mc] = [f.decide(f.apply(d)[1]) for d in docs]
        dt = time.perf_counter() - t0
        diff = sum(a != b for a, b in zip(lid[4000], lid[mc]))
        print(f"  langid max_chars={mc:<5} {1e3 * dt / len(docs):.3f} ms/doc, decisions differing from 4000: {diff}")
    ja = [d for d, o in zip(docs, lid[4000]) if o is None]
    exact = None
    for mc in (0, 2000, 1000):
        tk = SudachiTokenizer(max_chars=mc)
        tk.load()
        t0 = time.perf_counter()
        scores = [tk.score(d) for d in ja]
        dt = time.perf_counter() - t0
        decisions = [noun.decide(noun.score(d._replace(scores={f"tokenize.{k}": v for k, v in s.items()})))
                     for d, s in zip(ja, scores)]
        ratios = [s["noun_ratio"] for s in scores]
        tokens = [s["n_tokens"] for s in scores]
        if exact is None:
            exact = (decisions, ratios, tokens)
        diff = sum(a != b for a, b in zip(exact[0], decisions))
        mad = sum(abs(a - b) for a, b in zip(exact[1], ratios)) / len(ja)
        err = sum(abs(a - b) / max(a, 1) for a, b in zip(exact[2], tokens)) / len(ja)
        print(f"  tokenize max_chars={mc:<5} {1e3 * dt / len(ja):.3f} ms/doc, noun_ratio decisions differing "
              f"{diff}/{len(ja)}, mean |change of noun_ratio| {mad:.4f}, mean rel. n_tokens error {err:.4f}")


def main() -> None:
    if not INPUT.exists():
        raise SystemExit(f"{INPUT} missing: run python bench/bench_e2e.py --build-only first")
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what in ("order", "all"):
        order()
    if what in ("knobs", "all"):
        knobs()


if __name__ == "__main__":
    main()
