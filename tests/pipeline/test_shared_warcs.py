"""The accounting invariant on every real WARC/ARC/WET file in ../shared/data/warc.

One pipeline run (in-process runner) over all files, including warcio's
deliberately malformed ones and resiliparse's truncated ``clipped.warc.gz``:
it must finish, ``stats.json`` must account for every record, and for every
file the rows in documents + rejects must equal what the reader yielded for
that file (each record leaves exactly once).
"""

import collections
import json

import pyarrow.parquet as pq
import pytest

from pipeline.readers import read_records
from pipeline.run import run
from tests.conftest import shared


@pytest.mark.slow
def test_every_shared_warc_is_fully_accounted(tmp_path):
    root = shared("warc")
    # Every file under warc/, README and LICENSE files included: they are inputs too
    # and must come out as counted rejects (unreadable_file), not vanish.
    files = sorted(p for p in root.rglob("*") if p.is_file())
    assert len(files) >= 20
    out = tmp_path / "out"
    code = run([str(root / "**"), "--output", str(out), "--direct_running_mode=in_memory",
                "--direct_num_workers=1"])
    assert code == 0
    stats = json.loads((out / "stats.json").read_text())
    assert stats["accounted"] is True
    assert stats["records_in"] == stats["documents_out"] + stats["rejected"]

    expected = collections.Counter()
    for path in files:
        with open(path, "rb") as fh:
            expected[str(path)] = sum(1 for _ in read_records(fh, str(path)))
    seen = collections.Counter()
    for kind in ("documents", "rejects"):
        table = pq.read_table(out / kind, columns=["source"])
        seen.update(table.column("source").to_pylist())
    assert seen == expected
    assert stats["records_in"] == sum(expected.values())
    # The malformed files were read, not skipped: their problems are on record.
    reasons = {(r["stage"], r["reason"]) for r in stats["reasons"]}
    assert ("read", "truncated") in reasons or ("read", "malformed_record") in reasons
