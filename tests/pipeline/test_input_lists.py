"""Input lists (``furui run --inputs-from LIST``): parsing, resolution, and runs over them."""

from __future__ import annotations

import gzip
import io
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.input_lists import MAX_ENTRY_BYTES, iter_entries, list_base, resolve_entry
from pipeline.run import UsageError, check_input_lists, input_lists, parse_run_args, run, sample_path, split_beam_values
from pipeline.stages import _ListInputsFn, _MatchFn

IN_MEMORY = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]
SAMPLE_RECORDS = 53  # records in the bundled sample WARC


class _Chunks(io.RawIOBase):
    """A reader that returns at most ``n`` bytes per read, as a slow storage would."""

    def __init__(self, data: bytes, n: int):
        self.data, self.n, self.pos = data, n, 0

    def readable(self):
        return True

    def read(self, size=-1):
        out = self.data[self.pos:self.pos + min(self.n, size if size >= 0 else self.n)]
        self.pos += len(out)
        return out


def entries(data: bytes, n: int = 1 << 16):
    return list(iter_entries(_Chunks(data, n)))


@pytest.mark.parametrize("n", [1, 7, 4096, 1 << 16])
def test_entries_skip_blanks_and_comments_and_say_what_is_wrong_with_a_line(n):
    long = b"x" * (MAX_ENTRY_BYTES + 1)
    data = (b"\xef\xbb\xbf# CC-MAIN-2024-10\r\n"
            b"crawl-data/a.warc.gz\r\n"
            b"\n   \n\t# indented comment\n"
            b"  s3://b/c.warc.gz \t\n"
            b"\xff\xfe.warc\n"
            b"a\x00b.warc\n"
            + long + b"\n"
            + b"x" * MAX_ENTRY_BYTES + b"\n"
            + b"last.warc")  # no final line break
    too_long = f"line longer than {MAX_ENTRY_BYTES:,} bytes"
    assert entries(data, n) == [
        (2, "crawl-data/a.warc.gz", ""),
        (6, "s3://b/c.warc.gz", ""),
        (7, None, "not UTF-8"),
        (8, None, "holds a control character"),
        (9, None, too_long),
        (10, "x" * MAX_ENTRY_BYTES, ""),
        (11, "last.warc", ""),
    ]


def test_a_huge_line_is_one_problem_and_is_never_buffered_whole():
    """A crawl file given as a list by mistake: a line of megabytes is one problem,
    and the reader's buffer stays near MAX_ENTRY_BYTES plus one chunk."""

    import tracemalloc

    data = b"a.warc\n" + b"y" * 20_000_000 + b"\nb.warc\n" + b"z" * 20_000_000
    tracemalloc.start()
    try:
        got = entries(data, 1 << 16)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, peak
    too_long = f"line longer than {MAX_ENTRY_BYTES:,} bytes"
    assert got == [(1, "a.warc", ""), (2, None, too_long), (3, "b.warc", ""), (4, None, too_long)]


def test_an_endless_line_is_reported_at_once():
    """/dev/zero given as a list: the line never ends, and the problem is said
    after MAX_ENTRY_BYTES, not at an end that never comes (the driver hung)."""

    class Zeros(io.RawIOBase):
        def readable(self):
            return True

        def read(self, size=-1):
            return b"\0" * (size if size > 0 else 1 << 16)

    assert next(iter_entries(Zeros())) == (1, None, f"line longer than {MAX_ENTRY_BYTES:,} bytes")


def test_relative_lines_are_under_the_prefix_or_the_lists_directory(tmp_path):
    assert resolve_entry("crawl-data/CC-MAIN-2024-10/segments/1/warc/x.warc.gz", "s3://commoncrawl/") == \
        "s3://commoncrawl/crawl-data/CC-MAIN-2024-10/segments/1/warc/x.warc.gz"
    assert resolve_entry("x.warc.gz", "s3://commoncrawl") == "s3://commoncrawl/x.warc.gz"
    assert resolve_entry("commoncrawl/x.warc.gz", "s3://") == "s3://commoncrawl/x.warc.gz"  # was s3:/commoncrawl
    assert resolve_entry("gs://other/y.warc.gz", "s3://commoncrawl/") == "gs://other/y.warc.gz"
    assert resolve_entry("/abs/y.warc", str(tmp_path)) == "/abs/y.warc"
    assert resolve_entry("seg/*.warc.gz", "s3://b/crawl") == "s3://b/crawl/seg/*.warc.gz"
    # Directories stand for every file under them, as on the command line.
    assert resolve_entry("seg/", "s3://b/crawl") == "s3://b/crawl/seg/**"
    (tmp_path / "dir").mkdir()
    assert resolve_entry("dir", str(tmp_path)) == f"{tmp_path}/dir/**"
    assert list_base("s3://b/lists/warc.paths.gz", None) == "s3://b/lists"
    assert list_base("s3://b", None) == "s3://b"
    assert list_base("rel/warc.paths", None) == str(Path("rel").resolve())
    assert list_base("s3://b/l.txt", "rel/prefix") == str(Path("rel/prefix").resolve())  # workers elsewhere
    # One file spelled several ways is one path (read once).
    assert {resolve_entry(e, str(tmp_path)) for e in ("a.warc", "./a.warc", "x//../a.warc", f"{tmp_path}/a.warc")} \
        == {f"{tmp_path}/a.warc"}
    assert input_lists(["rel/warc.paths"], None) == [(str(Path("rel/warc.paths").resolve()),
                                                      str(Path("rel").resolve()))]
    with pytest.raises(UsageError, match="--input-prefix is empty"):
        input_lists(["x"], " ")
    with pytest.raises(UsageError, match="none is given"):
        input_lists([], "s3://commoncrawl/")


def test_options_are_taken_anywhere_in_either_form():
    args, beam = parse_run_args(split_beam_values(
        ["a.warc", "--inputs-from", "l1.txt", "--direct_num_workers=2", "--inputs-from=l2.txt.gz",
         "--input-prefix", "s3://commoncrawl/", "-o", "out"]))
    assert args.inputs == ["a.warc"] and args.inputs_from == ["l1.txt", "l2.txt.gz"]
    assert args.input_prefix == "s3://commoncrawl/" and beam == ["--direct_num_workers=2"]
    # A near miss is refused, not handed to Beam (which would ignore it and read the sample).
    assert run(["--input-from", "l1.txt", "--output", "/tmp/furui-unused"]) == 2


def test_the_driver_refuses_a_list_it_cannot_use(tmp_path, capsys):
    def check(name: str, data: bytes | None) -> str:
        path = tmp_path / name
        if data is not None:
            path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        with pytest.raises(UsageError) as e:
            check_input_lists(input_lists([str(path)], None))
        return str(e.value)

    assert "cannot read the input list" in check("missing.txt", None)
    assert "names no input" in check("empty.txt", b"# nothing yet\n\n")
    assert "line 1: not UTF-8" in check("binary.txt", b"\x89PNG\r\n\x1a\n")
    assert "starts like a crawl file" in check("crawl.warc.gz", b"WARC/1.0\r\nWARC-Type: warcinfo\r\n")
    assert "starts like a crawl file" in check("pages.jsonl", b'{"text": "x"}\n')
    assert "starts like a crawl file" in check("page.html", b"<!DOCTYPE html>\n<html>\n")
    assert "not a regular file" in check("/dev/zero", None)  # it hung the driver
    (tmp_path / "adir").mkdir()
    assert "not a regular file but a directory" in check("adir", None)
    import os

    os.mkfifo(tmp_path / "pipe")  # <(zcat warc.paths.gz): the check would eat what the workers then miss
    assert "not a regular file" in check("pipe", None)
    # A gzip list cut short before its first entry is out: refused (later cuts: test below).
    (tmp_path / "cut.txt.gz").write_bytes(gzip.compress(b"crawl/a.warc.gz\n" * 100)[:-12])
    assert "EOFError" in check("cut.txt.gz", None)
    for name, first in [("dated.txt", b"WARC/2024/a.warc.gz\n"), ("braces.txt", b"{a,b}.warc.gz\n"),
                        ("lt.txt", b"<1>.warc\n")]:  # paths, not crawl files
        (tmp_path / name).write_bytes(first)
        check_input_lists(input_lists([str(tmp_path / name)], None))
    ok = tmp_path / "ok.txt.gz"
    ok.write_bytes(gzip.compress(b"# list\ncrawl/a.warc.gz\n"))
    check_input_lists(input_lists([str(ok)], None))
    # Credentials in the list's own URL or the prefix are refused like an input's.
    assert run(["--inputs-from", "s3://AKIAIOSFODNN7EXAMPLE:abc@bucket/l.txt", "-o", str(tmp_path / "o")]) == 2
    assert run(["--inputs-from", str(ok), "--input-prefix", "s3://k:s@b/", "-o", str(tmp_path / "o")]) == 2
    # A presigned URL is credentials too: refused, and its signature is not echoed.
    assert run(["--inputs-from", "https://host.example/l.txt?X-Amz-Signature=deadbeefsig",
                "-o", str(tmp_path / "o")]) == 2
    assert "deadbeefsig" not in capsys.readouterr().err


def test_a_list_that_cannot_be_read_or_breaks_midway_is_a_counted_reject(tmp_path):
    fn = _ListInputsFn()
    fn.retry_pause_s = 0.001
    fn.setup()
    missing = list(fn.process((str(tmp_path / "gone.txt"), str(tmp_path))))
    assert [(o.value.reason, o.value.id) for o in missing] == [("unreadable_file", f"{tmp_path}/gone.txt:1")]
    # A gzip list cut short: the lines before the cut are read, the rest is one read_error.
    whole = gzip.compress(b"".join(b"crawl/%05d.warc.gz\n" % i for i in range(20_000)))
    cut = tmp_path / "cut.txt.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    out = list(fn.process((str(cut), "s3://b")))
    paths = [o for o in out if isinstance(o, str)]
    (reject,) = [o.value for o in out if not isinstance(o, str)]
    assert len(paths) > 1000 and paths[:2] == ["s3://b/crawl/00000.warc.gz", "s3://b/crawl/00001.warc.gz"]
    assert reject.reason == "read_error" and reject.id == f"{cut}:{len(paths) + 1}"
    assert reject.detail.startswith(f"after line {len(paths)}: ")
    # A line with credentials once the prefix is on ("s3://" + "KEY:SECRET@bucket/...") names
    # the list and line only; a relative line under a scheme-only prefix keeps its "//".
    creds = tmp_path / "creds.txt"
    creds.write_text("AKIAABCDEFGHIJKLMNOP:sEcReT0123@bucket/x.warc.gz\ncommoncrawl/y.warc.gz\n"
                     "b/2024-05-01T12:00:00Z/page@2x.warc.gz\n")  # "@" in a key is a name
    out = list(fn.process((str(creds), "s3://")))
    assert out[1:] == ["s3://commoncrawl/y.warc.gz", "s3://b/2024-05-01T12:00:00Z/page@2x.warc.gz"]
    assert (out[0].value.reason, out[0].value.id) == ("bad_list_entry", f"{creds}:1")
    assert "sEcReT" not in repr(out[0].value) and "AKIA" not in repr(out[0].value)


def test_a_listed_pattern_that_matches_nothing_is_a_counted_reject(tmp_path):
    (tmp_path / "a.warc").write_bytes(b"")
    fn = _MatchFn()
    fn.setup()
    assert list(fn.process(f"{tmp_path}/*.warc")) == [f"{tmp_path}/a.warc"]
    # A plain path is passed on unlisted: the reader says whether it is there.
    assert list(fn.process(f"{tmp_path}/gone.warc")) == [f"{tmp_path}/gone.warc"]
    (none,) = list(fn.process(f"{tmp_path}/*.arc"))
    assert (none.value.reason, none.value.source, none.value.detail) == \
        ("unreadable_file", f"{tmp_path}/*.arc", "no file matches this pattern")


def _documents(out: Path) -> list[tuple[str, str]]:
    return sorted((d["id"], d["text"]) for d in pq.read_table(out / "documents").to_pylist())


def test_a_run_over_a_list_reads_what_it_names_and_accounts_for_every_line(tmp_path, monkeypatch):
    crawl = tmp_path / "crawl"
    (crawl / "seg").mkdir(parents=True)
    shutil.copy(sample_path(), crawl / "seg" / "a.warc.gz")
    pages = [{"id": f"p{i}", "text": "今日は良い天気です。" * 60 + f"番号{i}の記事です。"} for i in range(3)]
    (crawl / "b.jsonl").write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pages), "utf-8")
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "part1.txt").write_text(
        "# one crawl, two ways to name a file\n"
        f"{crawl}/seg/\n"  # a directory: every file under it
        f"{crawl}/seg/a.warc.gz\n"  # the same file again: read once
        f"{crawl}/*.nomatch\n"  # a pattern that matches nothing: one reject
        f"{crawl}/*.nomatch\n"  # ... however often it is listed
        f"{crawl}/./seg//a.warc.gz\n"  # the same file spelled otherwise: read once
        "s3://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI@bucket/x.warc.gz\n",  # never written out
        "utf-8")
    (lists / "part2.txt.gz").write_bytes(gzip.compress(b"../crawl/b.jsonl\n../crawl/gone.warc.gz\n"))
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)
    code = run(["--inputs-from", str(lists / "part1.txt"), "--inputs-from", str(lists / "part2.txt.gz"),
                "--inputs-from", str(lists / "part1.txt"),  # a list given twice is read once
                "crawl/b.jsonl",  # listed too, spelled otherwise: read once
                "--output", str(out), *IN_MEMORY])
    assert code == 0
    stats = json.loads((out / "stats.json").read_text())
    rejects = pq.read_table(out / "rejects").to_pylist()
    assert stats["accounted"] and stats["records_in"] == SAMPLE_RECORDS + len(pages) + 3
    listed = sorted((r["reason"], r["id"], r["detail"]) for r in rejects
                    if r["reason"] in ("unreadable_file", "bad_list_entry"))
    assert [(reason, rid) for reason, rid, _ in listed] == [
        ("bad_list_entry", f"{lists}/part1.txt:7"),
        ("unreadable_file", f"{crawl}/*.nomatch@0"),
        ("unreadable_file", f"{crawl}/gone.warc.gz@0"),
    ]
    assert "credentials" in listed[0][2] and "FileNotFoundError" in listed[2][2]
    for path in out.rglob("*"):
        if path.is_file():
            assert b"wJalrXUtnFEMI" not in path.read_bytes() and b"AKIAIOSFODNN7EXAMPLE" not in path.read_bytes()
    assert stats["inputs"] == ["crawl/b.jsonl"] and stats["input_lists"] == [
        {"list": str(lists / "part1.txt"), "base": str(lists)},
        {"list": str(lists / "part2.txt.gz"), "base": str(lists)}]
    card = (out / "README.md").read_text()
    assert f"- `{lists}/part1.txt` (base `{lists}`)" in card
    # The same files named on the command line give the same documents.
    direct = tmp_path / "direct"
    assert run([str(crawl / "seg" / "a.warc.gz"), str(crawl / "b.jsonl"), "--output", str(direct), *IN_MEMORY]) == 0
    assert _documents(out) == _documents(direct)
    assert {"p0", "p1", "p2"} <= {i for i, _ in _documents(out)} | {r["id"] for r in rejects}


@pytest.mark.s3
def test_a_list_on_s3_with_a_prefix_reads_from_s3(s3_endpoint, s3_client, s3_bucket, tmp_path):
    with open(sample_path(), "rb") as fh:
        s3_client.put_object(Bucket=s3_bucket, Key="crawl-data/seg-1/warc/part-0.warc.gz", Body=fh.read())
    # As Common Crawl's warc.paths.gz: keys relative to the bucket, gzip-compressed.
    s3_client.put_object(Bucket=s3_bucket, Key="lists/warc.paths.gz",
                         Body=gzip.compress(b"crawl-data/seg-1/warc/part-0.warc.gz\ncrawl-data/seg-2/warc/*.warc.gz\n"))
    s3_opts = [f"--s3_endpoint_url={s3_endpoint}", "--s3_region_name=us-east-1"]
    out = tmp_path / "out"
    code = run(["--inputs-from", f"s3://{s3_bucket}/lists/warc.paths.gz", "--input-prefix", f"s3://{s3_bucket}/",
                "--output", str(out), *IN_MEMORY, *s3_opts])
    assert code == 0
    stats = json.loads((out / "stats.json").read_text())
    assert stats["accounted"] and stats["records_in"] == SAMPLE_RECORDS + 1
    (nomatch,) = [r for r in pq.read_table(out / "rejects").to_pylist() if r["reason"] == "unreadable_file"]
    assert nomatch["source"] == f"s3://{s3_bucket}/crawl-data/seg-2/warc/*.warc.gz"
    local = tmp_path / "local"
    assert run([sample_path(), "--output", str(local), *IN_MEMORY]) == 0
    assert _documents(out) == _documents(local)


def test_a_dry_run_on_the_local_runner_reads_and_writes_nothing(tmp_path, capsys):
    """Only Dataflow stops at --dry_run; the local runner ran the whole job into an
    output directory nobody had prepared."""
    out = tmp_path / "out"
    assert run(["--output", str(out), "--dry_run=True", *IN_MEMORY]) == 0
    assert not out.exists() and "the job was built and not run" in capsys.readouterr().out
    # A scheme-only prefix is a prefix (the lines name the bucket), on any scheme.
    listed = tmp_path / "l.txt"
    listed.write_text("bucket/crawl/a.warc.gz\n")
    assert run(["--inputs-from", str(listed), "--input-prefix", "gs://", "--output", str(out), "--dry_run=True",
                *IN_MEMORY]) == 0
    # Beam's --dry_run is a string, and Beam takes "False" as true: furui does not.
    assert run(["--output", str(out), "--dry_run=False", *IN_MEMORY]) == 0
    assert json.loads((out / "stats.json").read_text())["accounted"]
    assert run(["--output", str(out), "--dry_run=maybe", *IN_MEMORY]) == 2

