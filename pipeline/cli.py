"""The ``furui`` command: ``run``, ``card`` and ``publish``."""

from __future__ import annotations

import logging
import os
import re
import sys

USAGE = """usage: furui <command> [args]

commands:
  run [INPUT ...] [--inputs-from LIST [--input-prefix PREFIX]] --output DIR
      [--config FILE] [beam options]
                      run the pipeline (no INPUT: the bundled sample);
                      LIST: a file of input paths, one per line
  card OUTPUT_DIR     (re)write the dataset card of a finished run
  publish OUTPUT_DIR s3://bucket/prefix [--endpoint-url URL]
                      upload a finished run to object storage
  --version           print furui's version
"""


def _not_forwarded_worker_log(record: logging.LogRecord) -> bool:
    """False for the copy of a worker's log line that the local job service logs as a
    raw protobuf (``Worker: severity: WARN timestamp { ... }``): furui's local
    workers print every warning on their own stderr already, so each one showed twice.

    >>> rec = logging.LogRecord("apache_beam.runners.portability.local_job_service", logging.WARNING,
    ...                         "", 0, "Worker: %s", ("severity: WARN message: 'x'",), None)
    >>> _not_forwarded_worker_log(rec)
    False
    >>> rec.msg = "Job state %s"; _not_forwarded_worker_log(rec)
    True
    """
    return not (record.name == "apache_beam.runners.portability.local_job_service" and record.msg == "Worker: %s")


def _not_beam_bigquery_noise(record: logging.LogRecord) -> bool:
    """False for the warning Beam logs at import when google-cloud libraries are
    partly installed but BigQuery's apitools is not (every runtime-only install):
    furui never uses BigQuery, and the line reads like an error to users.

    >>> rec = logging.LogRecord("root", logging.WARNING, "", 0, "apitools not found, and bigquery "
    ...                         "client libraries are not available despite ...", None, None)
    >>> _not_beam_bigquery_noise(rec)
    False
    >>> rec.name = "furui"; _not_beam_bigquery_noise(rec)
    True
    """
    from pipeline.worker import is_bigquery_noise

    return not is_bigquery_noise(record)


def _not_beam_root_info(record: logging.LogRecord) -> bool:
    """False for INFO (and lower) lines that Beam's own code logs through the root
    logger rather than an ``apache_beam`` one ("starting control server on port
    ...", "Requesting worker at ...", seven per portable run): the CLI keeps
    Beam's loggers at WARNING, and these escaped that by their logger's name.

    >>> import apache_beam.runners.portability.fn_api_runner.worker_handlers as wh
    >>> rec = logging.LogRecord("root", logging.INFO, wh.__file__, 1, "starting data server on port %s", (1,), None)
    >>> _not_beam_root_info(rec)
    False
    >>> rec.levelno = logging.WARNING; _not_beam_root_info(rec)
    True
    >>> _not_beam_root_info(logging.LogRecord("root", logging.INFO, __file__, 1, "x", None, None))
    True
    """
    if record.name != "root" or record.levelno >= logging.WARNING:
        return True
    return f"{os.sep}apache_beam{os.sep}" not in (record.pathname or "")


def _not_job_server_routine(record: logging.LogRecord) -> bool:
    """False for what a portable run (Flink, Spark, a job service) logs as warnings
    or errors although nothing is wrong: Beam's "Really starting/destroying service"
    warnings around the job server (furui logs where its output goes instead), and
    a LOOPBACK worker's "Failed to read inputs in the data plane" with the
    traceback of a stream the runner cancelled after a stage (:func:`_is_channel_hangup`).

    >>> rec = logging.LogRecord("apache_beam.utils.subprocess_server", logging.WARNING, "", 0,
    ...                         "Really starting service at %s with cmd: %s", ("localhost:1", "java"), None)
    >>> _not_job_server_routine(rec)
    False
    >>> rec.msg = "Failed to start job service with %s"; _not_job_server_routine(rec)
    True
    """
    if record.name == "apache_beam.utils.subprocess_server":
        return not str(record.msg).startswith(("Really starting service", "Really destroying service"))
    if record.exc_info and record.name.startswith("apache_beam.runners.worker"):
        return not _is_channel_hangup(record.exc_info[1])
    return True


class _JobServerOutput(logging.Filter):
    """A Java job server's output (Flink, Spark) goes to a file; only its errors reach the console.

    Beam logs every line a job server prints, at INFO, under a logger named after
    its class (``FlinkJarJobServer``). Embedded Flink printed ~25,000 lines per
    run, even on the 53-record sample (operator names, metric dumps, harmless
    WARNs), which buried the funnel. Every line is written to
    ``furui-jobserver-*.log`` in the temporary directory (created on the first
    line, readable by its owner only; its path is logged once), and a line
    passes on to the console only when its Java level is ERROR or FATAL, with the
    lines that continue it (a stack trace), when the JVM wrote it outside a logger
    (``Exception in thread ...``, ``Error: ...``, with what follows), or when it
    comes before the server's first leveled line (a JVM that cannot start says why
    that way). A failed job still fails with Beam's own error.

    >>> f = _JobServerOutput()
    >>> rec = lambda msg: logging.LogRecord("FlinkJarJobServer", logging.INFO, "", 0, msg, None, None)
    >>> [f.filter(rec(m)) for m in ["Error: Unable to access jarfile x.jar",
    ...   "[main] INFO org.apache.beam.runners.jobsubmission.JobServerDriver - JobService started",
    ...   "[MapPartition at [21]{ReadWarc} (1/2)#0] WARN org.apache.flink.metrics.MetricGroup - name too long",
    ...   "java.lang.IllegalStateException: call already closed",
    ...   "[main] ERROR org.apache.flink.Job - failed", "\\tat org.apache.flink.Job.run(Job.java:1)",
    ...   "[main] INFO org.apache.flink.Job - done", 'Exception in thread "main" java.lang.OutOfMemoryError',
    ...   "\\tat java.base/java.util.Arrays.copyOf(Arrays.java:1)"]]
    [True, False, False, False, True, True, False, True, True]

    java.util.logging records (two lines) count by their level line:

    >>> g = _JobServerOutput()
    >>> [g.filter(rec(m)) for m in ["Nov 30, 2026 5:20:50 AM io.netty.util.internal.MacAddressUtil defaultMachineId",
    ...   "WARNING: Failed to find a usable hardware address from the network interfaces",
    ...   "Nov 30, 2026 5:20:51 AM org.example.Server start", "SEVERE: port in use",
    ...   "SEVERE: Exception while executing runnable io.grpc.internal.ServerImpl$JumpToApplicationThread"
    ...   "ServerStreamListener$1HalfClosed@711d963f", "java.lang.IllegalStateException: call already closed"]]
    [False, False, False, True, False, False]
    >>> g.close(); os.remove(g.path)
    >>> f.filter(logging.LogRecord("furui", logging.INFO, "", 0, "x", None, None))
    True
    >>> f.close(); os.path.exists(f.path) and "JobService started" in open(f.path).read()
    True
    >>> os.remove(f.path)
    """

    #: Java's ``[thread] LEVEL logger - message`` (thread names may hold brackets).
    _LEVELED = re.compile(r"\[.*?\] (TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL) ")
    _SHOWN = ("ERROR", "FATAL")
    #: Lines the JVM writes itself, outside any logger (a crash, an uncaught exception).
    _JVM_ERROR = re.compile(r"(Exception in thread |Caused by: |Error: |# A fatal error)")
    #: java.util.logging's two-line records (Netty uses it): a "date time class method"
    #: header, then "LEVEL: message". The header is saved only; the level line decides.
    _JUL_HEADER = re.compile(r"[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d{2}:\d{2} [AP]M \S")
    _JUL_LEVEL = re.compile(r"(SEVERE|WARNING|INFO|CONFIG|FINE|FINER|FINEST): ")
    #: grpc-java's report of the stage-teardown race (a half-close on a call the runner
    #: already closed: "IllegalStateException: call already closed"), logged as SEVERE
    #: by java.util.logging although the job is unaffected; kept in the file only.
    _TEARDOWN_RACE = re.compile(r"SEVERE: Exception while executing runnable \S*HalfClosed@")
    #: Beam's loggers of Java job servers (one per runner class).
    LOGGERS = frozenset({"FlinkJarJobServer", "SparkJarJobServer", "JavaJarJobServer", "FlinkUberJarJobServer",
                         "SparkUberJarJobServer"})

    def __init__(self) -> None:
        super().__init__()
        import threading

        self.path: str | None = None
        self._fh = None
        self._level = "ERROR"  # until the first leveled line
        self._lock = threading.Lock()
        self._last: tuple[logging.LogRecord, bool] | None = None  # (the last record, shown?)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name not in self.LOGGERS:
            return True
        with self._lock:
            # The filter sits on every root handler: a record it has just seen
            # (through another handler) is neither written nor judged again.
            if self._last is not None and self._last[0] is record:
                return self._last[1]
            line = record.getMessage()
            self._write(line)
            m = self._LEVELED.match(line)
            if m:
                self._level = m.group(1)
            elif self._JUL_HEADER.match(line):
                self._last = (record, False)
                return False
            elif (jul := self._JUL_LEVEL.match(line)) is not None:
                severe = jul.group(1) == "SEVERE" and not self._TEARDOWN_RACE.match(line)
                self._level = "ERROR" if severe else "INFO"
            elif self._JVM_ERROR.match(line):
                self._level = "ERROR"  # and the stack trace that follows it
            self._last = (record, self._level in self._SHOWN)
            return self._last[1]

    def _write(self, line: str) -> None:
        if self._fh is None:
            if self.path is not None:  # the file could not be opened: console only
                return
            import tempfile

            try:
                fd, self.path = tempfile.mkstemp(prefix="furui-jobserver-", suffix=".log")
                self._fh = open(fd, "w", encoding="utf-8", buffering=1)
            except OSError as exc:
                self.path = ""
                logging.getLogger("furui").warning("job server output not saved (%s); errors are shown here", exc)
                return
            logging.getLogger("furui").info("job server output: %s (its errors are shown here too)", self.path)
        self._fh.write(line + "\n")

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None


_JOB_SERVER_OUTPUT = _JobServerOutput()


def _is_channel_hangup(exc: BaseException | None) -> bool:
    """True for the error a LOOPBACK SDK worker's gRPC threads raise when the runner
    cancels their streams after a stage: status ``CANCELLED`` ("Multiplexer hanging
    up", "Stream removed (RST_STREAM ...)").

    Embedded Flink releases a stage's environment when the stage ends, and each
    release printed thread tracebacks in the middle of a successful run. A job
    that really fails still fails, with the runner's own error.
    """
    try:
        import grpc
    except ImportError:  # pragma: no cover - a Beam dependency
        return False
    if not isinstance(exc, grpc.RpcError):
        return False
    try:
        return exc.code() == grpc.StatusCode.CANCELLED
    except Exception:  # noqa: BLE001 - an RpcError without call details is not this one
        return False


class _Interrupt:
    """Ctrl-C during ``furui run``: one line, not a page of tracebacks.

    SIGINT reaches the whole process group. The extraction children and the
    local SDK workers stop silently (``pipeline.extract_child``,
    ``pipeline.worker``); in this process Beam re-raises the ``KeyboardInterrupt``
    from inside a DoFn as a ``RuntimeError`` and logs it, and the threads that
    watch the local workers report their exit. Once the user has interrupted,
    those reports are dropped; every earlier log line and error is untouched.
    A second Ctrl-C while the first is handled stops the process at once. A run
    started with SIGINT ignored (a background job) is left alone.

    Its thread hook also drops, at any time, the ``CANCELLED`` errors of LOOPBACK
    workers whose streams the runner closed (:func:`_is_channel_hangup`).
    """

    #: What a thread reports when a local SDK worker was stopped by Ctrl-C.
    _WORKER_STOPPED = ("Worker subprocess exited with return code -2",
                       "Worker subprocess exited with return code 130")

    def __init__(self) -> None:
        self.seen = False
        self.handling = False

    def __enter__(self) -> "_Interrupt":
        import signal
        import threading

        def on_sigint(signum, frame):
            if self.seen:  # a second Ctrl-C while the first is handled: stop now
                _stop_by_sigint()
            self.seen = True
            raise KeyboardInterrupt

        self._old_handler = None
        # Only from the main thread (Python's rule), and only if SIGINT has
        # Python's default handler (not ignored, not the embedding caller's own).
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self._old_handler = signal.signal(signal.SIGINT, on_sigint)
            self.handling = True
        self._old_hook = threading.excepthook
        threading.excepthook = self._thread_hook
        for handler in logging.getLogger().handlers:
            handler.addFilter(self._log_filter)
        return self

    def __exit__(self, *exc) -> None:
        import signal
        import threading

        if self._old_handler is not None:
            signal.signal(signal.SIGINT, self._old_handler)
        threading.excepthook = self._old_hook
        for handler in logging.getLogger().handlers:
            handler.removeFilter(self._log_filter)

    def _thread_hook(self, args) -> None:
        if _is_channel_hangup(args.exc_value):
            logging.getLogger("furui").debug("%s: %s (the runner closed a finished worker's channel)",
                                             getattr(args.thread, "name", "thread"), args.exc_value)
            return
        # A worker stopped by the same Ctrl-C may be reported before the main
        # thread has run the handler: that report is itself the sign.
        if self.handling and str(args.exc_value) in self._WORKER_STOPPED:
            self.seen = True
        if not self.seen:
            self._old_hook(args)

    def _log_filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("apache_beam"):
            return True
        if self.handling and "KeyboardInterrupt" in record.getMessage():
            self.seen = True
        return not self.seen


def _stop_by_sigint() -> None:
    """Ends this process by SIGINT, as an uncaught Ctrl-C would: a shell script
    that loops over ``furui run`` then stops too (it only stops for a child that
    died by the signal, not for one that exited with 130)."""
    import signal

    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``furui`` console script."""
    argv_given = argv is not None
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        # The job server's output filter stays for the life of the process: Beam
        # stops the server at exit, and its last lines come after main returns.
        for log_filter in (_not_beam_bigquery_noise, _not_forwarded_worker_log, _not_beam_root_info,
                           _not_job_server_routine, _JOB_SERVER_OUTPUT):
            if log_filter not in handler.filters:
                handler.addFilter(log_filter)
    for noisy in ("apache_beam", "trafilatura", "htmldate", "courlan", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command in ("--version", "version"):
        from importlib import metadata

        try:
            print(f"furui {metadata.version('furui')}")
        except metadata.PackageNotFoundError:
            print("furui (not installed: run from a source tree)")
        return 0
    if command == "run":
        from pipeline.run import RunInterrupted, run

        with _Interrupt() as interrupt:
            try:
                return run(rest, interrupted=lambda: interrupt.seen)
            except RunInterrupted as exc:
                message = str(exc)
        print(f"furui: {message}", file=sys.stderr)
        if not argv_given and interrupt.handling and os.name == "posix":
            _stop_by_sigint()
        return 130
    if command == "card":
        from pipeline.card import main_card

        return main_card(rest)
    if command == "publish":
        from pipeline.publish import main_publish

        return main_publish(rest)
    print(f"furui: error: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
