"""The ``furui`` command: ``run``, ``card`` and ``publish``."""

from __future__ import annotations

import logging
import os
import sys

USAGE = """usage: furui <command> [args]

commands:
  run [INPUT ...] --output DIR [--config FILE] [beam options]
                      run the pipeline (no INPUT: the bundled sample)
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
        for log_filter in (_not_beam_bigquery_noise, _not_forwarded_worker_log):
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
