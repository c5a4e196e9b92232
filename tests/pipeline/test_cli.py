"""The CLI's console: what a portable run (Flink) prints and what it keeps out.

The end-to-end check is ``test_runners.test_flink_runner_embedded_matches_direct_runner``
(a real embedded Flink run through the CLI); these pin the pieces.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
import threading

import grpc
import pytest

from pipeline import cli


class _CallError(grpc.RpcError):
    """An RpcError with call details, as grpc's stream iterators raise."""

    def __init__(self, code: grpc.StatusCode, details: str):
        super().__init__(details)
        self._code, self._details = code, details

    def code(self):
        return self._code

    def details(self):
        return self._details


@pytest.mark.parametrize("exc, hangup", [
    (_CallError(grpc.StatusCode.CANCELLED, "Multiplexer hanging up"), True),
    (_CallError(grpc.StatusCode.CANCELLED, "Stream removed (RST_STREAM (Received RST_STREAM with error code 8))"),
     True),
    (_CallError(grpc.StatusCode.UNAVAILABLE, "Socket closed"), False),
    (grpc.RpcError("no call details"), False),
    (RuntimeError("Multiplexer hanging up"), False),
    (None, False),
])
def test_only_cancelled_grpc_calls_count_as_a_closed_worker_channel(exc, hangup):
    assert cli._is_channel_hangup(exc) is hangup


def _raise_in_thread(exc: BaseException) -> None:
    def target():
        raise exc

    t = threading.Thread(target=target, name="read_grpc_client_inputs")
    t.start()
    t.join()


def test_thread_hook_drops_closed_channels_and_reports_everything_else(monkeypatch):
    seen = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_value))
    with cli._Interrupt():
        _raise_in_thread(_CallError(grpc.StatusCode.CANCELLED, "Multiplexer hanging up"))
        real = _CallError(grpc.StatusCode.UNAVAILABLE, "connection refused")
        _raise_in_thread(real)
        _raise_in_thread(ValueError("a bug"))
    assert [type(e).__name__ for e in seen] == ["_CallError", "ValueError"]
    assert seen[0] is real


def _record(name: str, level: int, msg: str, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, None) if exc is not None else None
    return logging.LogRecord(name, level, "", 0, msg, None, exc_info)


def test_worker_log_records_of_a_closed_channel_are_dropped_and_real_errors_kept():
    hangup = _CallError(grpc.StatusCode.CANCELLED, "Multiplexer hanging up")
    keep = cli._not_job_server_routine
    assert not keep(_record("apache_beam.runners.worker.data_plane", logging.ERROR,
                            "Failed to read inputs in the data plane.", hangup))
    assert keep(_record("apache_beam.runners.worker.data_plane", logging.ERROR,
                        "Failed to read inputs in the data plane.",
                        _CallError(grpc.StatusCode.INTERNAL, "bad frame")))
    assert keep(_record("apache_beam.runners.worker.sdk_worker", logging.ERROR, "Error processing instruction",
                        ValueError("x")))
    assert keep(_record("furui", logging.ERROR, "cancelled", hangup))  # only Beam's worker loggers


def test_job_server_output_file_is_private_and_keeps_every_line(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    f = cli._JobServerOutput()
    lines = ["[main] INFO org.apache.beam.runners.jobsubmission.JobServerDriver - JobService started on localhost:1",
             "[flink-akka.actor-1] WARN org.apache.flink.metrics.MetricGroup - The operator name is too long",
             "[Source: Impulse (1/2)#0] ERROR org.apache.flink.runtime.taskmanager.Task - Task failed",
             "java.lang.RuntimeException: boom",
             "\tat org.apache.beam.Foo.bar(Foo.java:1)",
             "[main] INFO org.apache.flink.runtime.minicluster.MiniCluster - Shutting down"]
    with caplog.at_level(logging.INFO, logger="furui"):
        shown = [f.filter(_record("FlinkJarJobServer", logging.INFO, line)) for line in lines]
    f.close()
    assert shown == [False, False, True, True, True, False]
    assert f.path and os.path.dirname(f.path) == str(tmp_path)
    assert open(f.path, encoding="utf-8").read().splitlines() == lines
    if sys.platform != "win32":
        assert stat.S_IMODE(os.stat(f.path).st_mode) == 0o600
    assert [r.getMessage() for r in caplog.records] == [
        f"job server output: {f.path} (its errors are shown here too)"]


def test_job_server_line_seen_by_two_handlers_is_saved_once(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    f = cli._JobServerOutput()
    rec = _record("FlinkJarJobServer", logging.INFO, "[main] INFO x - started")
    err = _record("FlinkJarJobServer", logging.INFO, "[main] ERROR x - failed")
    assert [f.filter(rec), f.filter(rec), f.filter(err), f.filter(err)] == [False, False, True, True]
    again = _record("FlinkJarJobServer", logging.INFO, "[main] INFO x - started")  # a new record, same text
    assert f.filter(again) is False
    f.close()
    assert open(f.path, encoding="utf-8").read().splitlines() == [
        "[main] INFO x - started", "[main] ERROR x - failed", "[main] INFO x - started"]
