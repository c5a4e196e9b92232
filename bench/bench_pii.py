"""PII detection: furui's PiiRedactor vs HojiChar's MaskPersonalInformation.

Usage: ``python bench/bench_pii.py [--repeat 5] [--no-hojichar]``

Quality on two labelled sets: ``tests/fixtures/pii_labelled.jsonl`` (written by
the detector's author, see ``scripts/make_pii_set.py``) and
``tests/fixtures/pii_blind.jsonl`` and ``pii_blind2.jsonl`` (each written by a
reviewer who saw only the README; rows marked ``debatable`` are scored separately):

* furui: span level, exact match of ``(start, end, type)``, per type.
* HojiChar masks only phone numbers (the last 4 digits become ``XXXX``) and
  e-mail addresses (``xxxx@yyy.tld``), so its spans are recovered by diffing
  input and output (``difflib.SequenceMatcher``): each changed region is typed
  ``phone`` if its replacement contains ``XXXX`` and ``email`` if it contains
  ``@``. Because it masks only part of a number, a HojiChar span counts as a
  true positive when it *overlaps* a gold span of the same type (lenient); the
  same lenient overlap measure is printed for furui so the two columns compare.
  Recall of HojiChar on types it does not handle is 0 by design, so only phone
  and e-mail are compared.

Speed: docs/s over the labelled texts (short, 30-120 chars) and, if present, over
real livedoor news articles (NFKC, ~1,300 chars on average), best of ``--repeat``.

HojiChar is never installed into the project venv: it lives in
``bench/work/venv-hojichar`` (gitignored), created on first use and shared with
other benchmarks (creation is idempotent; an existing venv is reused). Its half
runs in a subprocess with that interpreter (this file with ``--hojichar-worker``).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import platform
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "pii_labelled.jsonl"
BLIND = ROOT / "tests" / "fixtures" / "pii_blind.jsonl"
BLIND2 = ROOT / "tests" / "fixtures" / "pii_blind2.jsonl"
VENV = ROOT / "bench" / "work" / "venv-hojichar"
LIVEDOOR = Path(os.environ.get("FURUI_SHARED_DATA", ROOT.parent / "shared" / "data")) / "text" / "livedoor-news-corpus"


def livedoor_texts(limit: int = 1000) -> list[str]:
    if not LIVEDOOR.is_dir():
        return []
    files = sorted(p for p in LIVEDOOR.glob("*/*.txt") if p.name != "LICENSE.txt")
    step = max(1, len(files) // limit)
    return [unicodedata.normalize("NFKC", p.read_text(encoding="utf-8")) for p in files[::step]][:limit]


# -- HojiChar worker (runs inside venv-hojichar) -------------------------------------
def hojichar_worker(repeat: int) -> None:
    from hojichar import Document
    from hojichar.filters.document_filters import MaskPersonalInformation

    payload = json.load(sys.stdin)
    masker = MaskPersonalInformation()
    out = {
        "masked": [masker.apply(Document(t)).text for t in payload["texts"]],
        "masked_extra": [masker.apply(Document(t)).text for t in payload.get("extra", [])],
        "speed": {},
    }
    for name, texts in (("labelled", payload["texts"]), ("livedoor", payload["livedoor"])):
        if not texts:
            continue
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            for t in texts:
                masker.apply(Document(t))
            best = min(best, time.perf_counter() - t0)
        out["speed"][name] = len(texts) / best
    json.dump(out, sys.stdout)


def ensure_hojichar_venv() -> Path | None:
    py = VENV / "bin" / "python"
    probe = [str(py), "-c", "import hojichar.filters.document_filters"]
    if py.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return py
    VENV.parent.mkdir(parents=True, exist_ok=True)
    try:
        if not py.exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "hojichar"], check=True)
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"HojiChar venv unavailable ({exc}); skipping HojiChar", file=sys.stderr)
        return None
    return py if subprocess.run(probe, capture_output=True).returncode == 0 else None


def diff_spans(original: str, masked: str) -> list[tuple[int, int, str]]:
    """Changed regions of ``original`` typed by what replaced them."""
    spans = []
    sm = difflib.SequenceMatcher(a=original, b=masked, autojunk=False)
    for op, a0, a1, b0, b1 in sm.get_opcodes():
        if op == "equal":
            continue
        new = masked[b0:b1]
        typ = "email" if "@" in new or "xxxx" in new or "yyy" in new else "phone" if "X" in new else "other"
        spans.append((a0, a1, typ))
    # Adjacent changed regions of one e-mail (local part, domain) are merged.
    merged: list[tuple[int, int, str]] = []
    for s in spans:
        if merged and merged[-1][2] == s[2] and s[0] - merged[-1][1] <= 2 and s[2] == "email":
            merged[-1] = (merged[-1][0], s[1], s[2])
        else:
            merged.append(s)
    return merged


# -- scoring --------------------------------------------------------------------------
def score(rows, preds, lenient: bool) -> dict[str, tuple[int, int, int]]:
    tp, fp, fn = Counter(), Counter(), Counter()
    for r, pred in zip(rows, preds):
        gold = [(s["start"], s["end"], s["type"]) for s in r["spans"]]
        if not lenient:
            g, p = set(gold), set(pred)
            for *_, t in g & p:
                tp[t] += 1
            for *_, t in p - g:
                fp[t] += 1
            for *_, t in g - p:
                fn[t] += 1
            continue
        hit_gold = set()
        for a0, a1, t in pred:
            match = [i for i, (g0, g1, gt) in enumerate(gold) if gt == t and a0 < g1 and g0 < a1]
            if match:
                tp[t] += 1
                hit_gold.update(match)
            else:
                fp[t] += 1
        for i, (_, _, t) in enumerate(gold):
            if i not in hit_gold:
                fn[t] += 1
    types = sorted(set(tp) | set(fp) | set(fn))
    return {t: (tp[t], fp[t], fn[t]) for t in types}


def pr(c: tuple[int, int, int]) -> tuple[float, float]:
    tp, fp, fn = c
    return (tp / (tp + fp) if tp + fp else float("nan"), tp / (tp + fn) if tp + fn else float("nan"))


def report_set(title, rows, hoji_masked, types, detect) -> None:
    """Prints furui's exact-span table and the phone/e-mail comparison with HojiChar."""
    set_texts = [r["text"] for r in rows]
    preds = [[(s.start, s.end, s.type) for s in detect(t)] for t in set_texts]
    exact = score(rows, preds, lenient=False)
    lenient = score(rows, preds, lenient=True)
    n_spans = sum(len(r["spans"]) for r in rows)
    print()
    print(f"## {title}: {len(rows)} texts, {n_spans} gold spans, "
          f"{sum(1 for r in rows if r['tag'].startswith('neg'))} negative texts")
    print("furui, exact span match")
    print(f"{'type':10s} {'tp':>4s} {'fp':>4s} {'fn':>4s} {'P':>6s} {'R':>6s}")
    for t in types:
        c = exact.get(t, (0, 0, 0))
        p, r = pr(c)
        print(f"{t:10s} {c[0]:4d} {c[1]:4d} {c[2]:4d} {p:6.3f} {r:6.3f}")
    allc = tuple(sum(v[i] for v in exact.values()) for i in range(3))
    p, r = pr(allc)
    print(f"{'all':10s} {allc[0]:4d} {allc[1]:4d} {allc[2]:4d} {p:6.3f} {r:6.3f}")
    print("phone + e-mail, lenient (overlap) match: furui vs HojiChar MaskPersonalInformation")
    hs = None
    if hoji_masked:
        hpreds = [[s for s in diff_spans(t, m) if s[2] in ("phone", "email")] for t, m in zip(set_texts, hoji_masked)]
        hs = score(rows, hpreds, lenient=True)
    print(f"{'type':8s} {'furui P':>8s} {'furui R':>8s} {'hoji P':>8s} {'hoji R':>8s}")
    for t in ("phone", "email"):
        fp_, fr_ = pr(lenient.get(t, (0, 0, 0)))
        hp_, hr_ = pr(hs.get(t, (0, 0, 0))) if hs else (float("nan"), float("nan"))
        print(f"{t:8s} {fp_:8.3f} {fr_:8.3f} {hp_:8.3f} {hr_:8.3f}")
    if hs:
        other = sum(1 for t, m in zip(set_texts, hoji_masked) for s in diff_spans(t, m) if s[2] == "other")
        masked_neg = sum(1 for r, pred in zip(rows, hpreds) if r["tag"].startswith("neg") and pred)
        print(f"HojiChar: {masked_neg} negative texts masked; untyped diff regions: {other}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-hojichar", action="store_true")
    ap.add_argument("--hojichar-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.hojichar_worker:
        hojichar_worker(args.repeat)
        return

    sys.path.insert(0, str(ROOT))
    from filters.pii import TYPES, PiiRedactor, detect
    from schemas.records import Doc

    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    blind = [json.loads(line) for line in BLIND.read_text(encoding="utf-8").splitlines()]
    blind2 = [json.loads(line) for line in BLIND2.read_text(encoding="utf-8").splitlines()]
    texts = [r["text"] for r in rows]
    live = livedoor_texts()

    step = PiiRedactor(policy="redact")
    speed = {}
    for name, corpus in (("labelled", texts), ("livedoor", live)):
        if not corpus:
            continue
        docs = [Doc(id=str(i), url="", source="", crawl_date="", text=t) for i, t in enumerate(corpus)]
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            for d in docs:
                step.apply(d)
            best = min(best, time.perf_counter() - t0)
        speed[name] = len(docs) / best

    hoji = None
    if not args.no_hojichar and (py := ensure_hojichar_venv()):
        res = subprocess.run(
            [str(py), __file__, "--hojichar-worker", "--repeat", str(args.repeat)],
            input=json.dumps({"texts": texts, "extra": [r["text"] for r in blind + blind2], "livedoor": live}),
            capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        if res.returncode == 0:
            hoji = json.loads(res.stdout)
        else:
            print("HojiChar worker failed:\n" + res.stderr[-2000:], file=sys.stderr)

    print(f"# PII benchmark  ({time.strftime('%Y-%m-%d')}, {platform.python_version()}, {os.cpu_count()} cores)")
    hoji_masked = (hoji["masked"] + hoji["masked_extra"]) if hoji else None
    # (title, rows, offset of each row's HojiChar output in hoji_masked)
    n1, n2 = len(rows), len(rows) + len(blind)
    sets = (
        ("labelled set (pii_labelled.jsonl, the author's)", rows, list(range(n1))),
        ("first blind set (pii_blind.jsonl), every row", blind, [n1 + i for i in range(len(blind))]),
        ("first blind set, rows not marked debatable", [r for r in blind if not r["debatable"]],
         [n1 + i for i, r in enumerate(blind) if not r["debatable"]]),
        ("second blind set (pii_blind2.jsonl), every row", blind2, [n2 + i for i in range(len(blind2))]),
        ("second blind set, rows not marked debatable", [r for r in blind2 if not r["debatable"]],
         [n2 + i for i, r in enumerate(blind2) if not r["debatable"]]),
    )
    for title, set_rows, where in sets:
        masked = [hoji_masked[i] for i in where] if hoji_masked else None
        report_set(title, set_rows, masked, TYPES, detect)
    print()
    print("speed (docs/s, best of %d, single process)" % args.repeat)
    for name in speed:
        h = hoji["speed"].get(name) if hoji else None
        extra = f"   HojiChar {h:,.0f}" if h else ""
        avg = sum(map(len, texts if name == "labelled" else live)) / len(texts if name == "labelled" else live)
        print(f"{name:9s} (avg {avg:,.0f} chars): furui {speed[name]:,.0f}{extra}")


if __name__ == "__main__":
    main()
