"""Benchmark: furui's Japanese quality filters vs an equivalent HojiChar ``Compose``.

Runs every quality filter of ``pipeline/configs/default.toml`` (plus
the ``pii`` redactor when ``filters.pii`` registers it) over real livedoor news
articles, the way ``ApplyFilter`` chains them (each step's scores merged into
``doc.scores``, a document leaves at its first drop), and prints docs/s and
MB/s, plus a per-filter cost breakdown with no early exit.

The HojiChar half runs in a separate virtualenv (``bench/work/venv-hojichar``,
created on first use with ``pip install hojichar``; HojiChar must not be
installed next to furui) in a subprocess, over the same texts, with document
filters similar in spirit: DocumentLengthFilter, AcceptJapanese,
DiscardRareKuten, DiscardAds, DiscardBBSComments, DiscardAdult/
Discrimination/ViolenceContentJa (NG words), DiscardTooManyEndingEllipsis,
DiscardTooShortLines, SingleCharacterRepetitionFilter,
CharRepetitionRatioFilter and MaskPersonalInformation.

The script also times the like-for-like chain: only the furui steps that do the
job of one of HojiChar's filters (``HOJICHAR_COUNTERPARTS``), against the same
HojiChar pass; the full chain does more work than HojiChar's ``Compose``.

Usage: python bench/bench_filters.py [--docs 2000] [--repeat 3] [--rounds 5] [--no-hojichar]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import filters.builtin  # noqa: E402,F401
from filters.normalize import normalize_text  # noqa: E402
from schemas.records import Doc  # noqa: E402

DATA = Path(os.environ.get("FURUI_SHARED_DATA", REPO.parent / "shared" / "data")) / "text" / "livedoor-news-corpus"
WORK = REPO / "bench" / "work"
HOJICHAR_VENV = WORK / "venv-hojichar"
HOJICHAR_VERSION = "0.18.1"

HOJICHAR_SCRIPT = r"""
import json, sys, time
from hojichar import Compose, Document, document_filters as df
texts = [json.loads(line)["text"] for line in open(sys.argv[1], encoding="utf-8")]
repeat = int(sys.argv[2])
def build():
    return Compose([
        df.DocumentLengthFilter(min_doc_len=400, max_doc_len=500000),
        df.AcceptJapanese(),
        df.DiscardRareKuten(),
        df.DiscardAds(),
        df.DiscardBBSComments(),
        df.DiscardAdultContentJa(),
        df.DiscardDiscriminationContentJa(),
        df.DiscardViolenceContentJa(),
        df.DiscardTooManyEndingEllipsis(),
        df.DiscardTooShortLines(),
        df.SingleCharacterRepetitionFilter(),
        df.CharRepetitionRatioFilter(),
        df.MaskPersonalInformation(),
    ])
compose = build()
for t in texts[:20]:
    compose.apply(Document(t))
best = None
for _ in range(repeat):
    kept = 0
    t0 = time.perf_counter()
    for t in texts:
        kept += not compose.apply(Document(t)).is_rejected
    dt = time.perf_counter() - t0
    best = dt if best is None else min(best, dt)
print(json.dumps({"seconds": best, "kept": kept, "docs": len(texts)}))
"""


def load_docs(n: int) -> list[Doc]:
    """Reads up to ``n`` livedoor articles spread over all categories, normalised."""
    paths = sorted(DATA.glob("*/*-*.txt"))
    if not paths:
        sys.exit(f"livedoor corpus not found under {DATA}")
    step = max(1, len(paths) // n)
    docs = []
    for path in paths[::step][:n]:
        lines = path.read_text(encoding="utf-8").split("\n")
        text = normalize_text("\n".join(lines[2:]))
        docs.append(Doc(id=path.name, url=lines[0].strip(), source="", crawl_date=lines[1], text=text))
    return docs


def build_steps(with_pii: bool = True) -> list:
    from pipeline.config import load_config

    # The bundled config's quality filters in order (+ the PII redactor).
    wanted = ("filter", "pii") if with_pii else ("filter",)
    steps = [s for s in load_config().steps if s.stage in wanted and s.name != "noun_ratio"]
    for s in steps:
        s.load()
    return steps


#: furui's step for each filter of the HojiChar ``Compose`` above (same job, furui's rule).
#: furui's default chain also runs steps HojiChar has no counterpart for (url_blocklist,
#: length, stopwords, swallow_char_ratio, special_chars, swallow_duplicate,
#: compression_ratio); the like-for-like figure leaves those out.
HOJICHAR_COUNTERPARTS = {
    "DocumentLengthFilter(400)": "swallow_length",
    "AcceptJapanese": "hiragana_ratio",
    "DiscardRareKuten": "swallow_sentence",
    "DiscardAds": "ad_phrases",
    "DiscardBBSComments": "bbs_comments",
    "DiscardAdult/Discrimination/ViolenceContentJa": "ng_words",
    "DiscardTooManyEndingEllipsis": "ellipsis_lines",
    "DiscardTooShortLines": "short_lines",
    "SingleCharacterRepetitionFilter": "char_run",
    "CharRepetitionRatioFilter": "swallow_ngram",
    "MaskPersonalInformation": "pii",
}


def counterpart_steps(steps: list) -> list:
    """The steps of ``steps`` (in their order) that have a HojiChar counterpart."""
    wanted = set(HOJICHAR_COUNTERPARTS.values())
    chosen = [s for s in steps if s.name in wanted]
    missing = wanted - {s.name for s in chosen}
    if missing:
        raise SystemExit(f"steps missing from the config: {sorted(missing)}")
    return chosen


def run_chain(steps: list, docs: list[Doc]) -> int:
    """Applies the steps like ApplyFilter: merge scores, stop at the first drop."""
    kept = 0
    for doc in docs:
        for step in steps:
            doc, scores = step.apply(doc)
            merged = dict(doc.scores)
            merged.update((f"{step.name}.{k}", v) for k, v in scores.items())
            doc = doc._replace(scores=merged)
            if step.decide(scores) is not None:
                break
        else:
            kept += 1
    return kept


def run_chain_batched(steps: list, docs: list[Doc], size: int = 64) -> int:
    """As the pipeline runs the steps (``_StepsFn`` batched): each step over a
    batch of ``size`` documents before the next step, same per-document results."""
    kept = 0
    for i in range(0, len(docs), size):
        alive = docs[i : i + size]
        for step in steps:
            nxt = []
            for doc in alive:
                doc, scores = step.apply(doc)
                merged = dict(doc.scores)
                merged.update((f"{step.name}.{k}", v) for k, v in scores.items())
                if step.decide(scores) is None:
                    nxt.append(doc._replace(scores=merged))
            alive = nxt
        kept += len(alive)
    return kept


def fresh(docs: list[Doc]) -> list[Doc]:
    # New string objects so no shared-statistics cache entry survives between runs.
    return [d._replace(text="".join(list(d.text[:1])) + d.text[1:]) for d in docs]


def time_chain(steps: list, docs: list[Doc]) -> tuple[float, int]:
    """Seconds and kept count of one step-major pass over fresh copies of ``docs``."""
    batch = fresh(docs)
    t0 = time.perf_counter()
    kept = run_chain_batched(steps, batch)
    return time.perf_counter() - t0, kept


def bench_furui(docs: list[Doc], repeat: int) -> dict:
    steps = build_steps()
    run_chain(steps, fresh(docs[:20]))  # warm-up: lookup tables, regexes
    best, kept, best_doc_major = None, 0, None
    for _ in range(repeat):
        dt, kept = time_chain(steps, docs)
        best = dt if best is None else min(best, dt)
        batch = fresh(docs)
        t0 = time.perf_counter()
        kept_doc_major = run_chain(steps, batch)
        dt = time.perf_counter() - t0
        best_doc_major = dt if best_doc_major is None else min(best_doc_major, dt)
        assert kept_doc_major == kept
    # Per-step cost when every document goes through every step (no early exit).
    per_step = {}
    batch = fresh(docs)
    for step in steps:
        t0 = time.perf_counter()
        for d in batch:
            step.decide(step.score(d))
        per_step[step.name] = (time.perf_counter() - t0) / len(batch) * 1e6
    return {"seconds": best, "seconds_doc_major": best_doc_major, "kept": kept, "steps": [s.name for s in steps],
            "us_per_doc": per_step}


def ensure_hojichar_venv() -> Path:
    python = HOJICHAR_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(HOJICHAR_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"hojichar=={HOJICHAR_VERSION}"], check=True)
    return python


def bench_hojichar(docs: list[Doc], repeat: int) -> dict:
    python = ensure_hojichar_venv()
    WORK.mkdir(parents=True, exist_ok=True)
    texts = WORK / "bench_filters_texts.jsonl"
    with open(texts, "w", encoding="utf-8") as fh:
        for d in docs:
            fh.write(json.dumps({"text": d.text}, ensure_ascii=False) + "\n")
    out = subprocess.run(
        [str(python), "-c", HOJICHAR_SCRIPT, str(texts), str(repeat)], check=True, capture_output=True, text=True
    )
    texts.unlink()
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-hojichar", action="store_true")
    ap.add_argument("--rounds", type=int, default=5, help="back-to-back furui/HojiChar pairs for the paired ratio")
    args = ap.parse_args()

    docs = load_docs(args.docs)
    n = len(docs)
    mb = sum(len(d.text.encode("utf-8")) for d in docs) / 1e6
    print(f"# {date.today()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"corpus: {n} livedoor articles, {mb:.2f} MB UTF-8, mean {sum(len(d.text) for d in docs) / n:.0f} chars")

    fu = bench_furui(docs, args.repeat)
    print(f"furui steps: {', '.join(fu['steps'])}")
    print(f"furui     : {n / fu['seconds']:8.0f} docs/s {mb / fu['seconds']:6.2f} MB/s  kept {fu['kept']}/{n}"
          "  (step-major batches of 64, as the pipeline runs them)")
    print(f"furui     : {n / fu['seconds_doc_major']:8.0f} docs/s {mb / fu['seconds_doc_major']:6.2f} MB/s"
          "  (one document through every step at a time)")
    print("furui per-step cost, no early exit (us/doc):")
    for name, us in fu["us_per_doc"].items():
        print(f"  {name:20s} {us:8.1f}")
    print(f"  {'total':20s} {sum(fu['us_per_doc'].values()):8.1f}")
    if not args.no_hojichar:
        hj = bench_hojichar(docs, args.repeat)
        print(f"hojichar  : {n / hj['seconds']:8.0f} docs/s {mb / hj['seconds']:6.2f} MB/s  kept {hj['kept']}/{n}")
        print(f"speed-up  : {hj['seconds'] / fu['seconds']:.1f}x (document-major: {hj['seconds'] / fu['seconds_doc_major']:.1f}x)"
              "  (best of each half)")
        # The halves above run minutes apart, and this shared host's speed drifts by
        # 10-20% over minutes: pair them too, one furui pass then one HojiChar pass.
        # Also the like-for-like chain: only furui's steps that do what HojiChar's do.
        steps = build_steps()
        subset = counterpart_steps(steps)
        print(f"like-for-like furui steps: {', '.join(s.name for s in subset)}")
        ratios, like = [], []
        for _ in range(args.rounds):
            f_s = time_chain(steps, docs)[0]
            sub_s, sub_kept = time_chain(subset, docs)
            h_s = bench_hojichar(docs, 1)["seconds"]
            ratios.append(h_s / f_s)
            like.append((h_s / sub_s, n / sub_s, sub_kept))
        ratios.sort()
        like.sort()
        print(f"speed-up  : {ratios[len(ratios) // 2]:.1f}x median of {len(ratios)} back-to-back pairs "
              f"(range {ratios[0]:.1f}-{ratios[-1]:.1f}x)")
        mid = like[len(like) // 2]
        print(f"like-for-like: {mid[0]:.1f}x median of {len(like)} (range {like[0][0]:.1f}-{like[-1][0]:.1f}x), "
              f"furui {mid[1]:.0f} docs/s, kept {mid[2]}/{n}")


if __name__ == "__main__":
    main()
