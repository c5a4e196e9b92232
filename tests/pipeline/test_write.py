"""Tests of pipeline/write.py's commit of one file (the shard writers are run by
the end-to-end and format tests)."""

from __future__ import annotations

from apache_beam.io.filesystems import FileSystems

from pipeline import write


def test_two_attempts_of_one_shard_racing_both_commit_and_leave_the_file(tmp_path, monkeypatch):
    """A retry can run while the slow first attempt of the same bundle is still
    going (Dataflow's zombie attempts, speculative execution). Interleave them at
    the worst point: the second attempt commits completely while the first is
    about to rename. With one temp name shared by both, the first rename found
    its temp file gone, deleted the committed shard and failed: no shard at all."""
    real_rename = FileSystems.rename
    calls = []

    def rename(src, dst):
        calls.append(src[0])
        if len(calls) == 1:  # the first attempt, just before its rename
            write.write_atomically(str(tmp_path), "documents/documents-00000-of-00001.parquet", b"same bytes")
        return real_rename(src, dst)

    monkeypatch.setattr(FileSystems, "rename", staticmethod(rename))
    final = write.write_atomically(str(tmp_path), "documents/documents-00000-of-00001.parquet", b"same bytes")
    assert open(final, "rb").read() == b"same bytes"
    assert len(set(calls)) == 2  # each attempt renamed its own temp file
    assert list((tmp_path / write.TMP_DIR).iterdir()) == []


def test_commit_replaces_an_existing_file(tmp_path):
    write.write_atomically(str(tmp_path), "x/a.bin", b"old")
    path = write.write_atomically(str(tmp_path), "x/a.bin", b"new")
    assert open(path, "rb").read() == b"new"
