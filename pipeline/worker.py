"""Entry point of the local runner's SDK worker processes (``multi_processing`` mode).

Beam starts each local worker as ``python -m apache_beam.runners.worker.sdk_worker_main``;
:class:`pipeline.runner.LocalRunner` starts ``python -m pipeline.worker`` instead,
which is the same harness with three log lines removed that every local worker
printed on every run (the last two twice: on the worker's stderr and forwarded
to the runner's log) and that read like errors to someone trying furui on a laptop:

* ``apitools not found, and bigquery client libraries are not available ...``:
  logged by ``import apache_beam`` when some ``google`` packages are installed
  but BigQuery's are not (every runtime-only install); furui never uses BigQuery.
* ``No semi_persistent_directory found: ...``: the local runner never stages a
  pickled main session, and furui's DoFns live in importable modules, so there
  is nothing to load.
* ``Discarding unparseable args: ['--direct_runner_use_stacked_bundle',
  '--pipeline_type_check']``: options of the runner process that the worker does
  not register. The line is kept when any *other* argument is discarded (a
  user's option the worker does not know about is worth seeing).

On Ctrl-C the worker stops without a traceback (the runner process reports the
interruption). Every other warning and error (from the harness or from furui's steps, crashes
included) reaches the worker's stderr and the runner's log as before; as with
Beam's own harness under furui's CLI (``--default_sdk_harness_log_level=WARNING``),
INFO lines are not shown.

It is started as :mod:`pipeline.childproc` describes, so it imports the same
furui as the runner process whatever the current directory holds.
"""

from __future__ import annotations

import logging
import sys

from pipeline import childproc

#: Options of the runner process that the SDK worker never registers.
_RUNNER_ONLY_ARGS = frozenset({"--direct_runner_use_stacked_bundle", "--pipeline_type_check"})


def is_bigquery_noise(record: logging.LogRecord) -> bool:
    """Whether ``record`` is Beam's import-time warning about BigQuery's missing apitools."""
    return record.name == "root" and str(record.msg).startswith("apitools not found")


def is_noise(record: logging.LogRecord) -> bool:
    """Whether ``record`` is one of the three harmless start-up lines above.

    >>> def rec(name, msg, *args):
    ...     return logging.LogRecord(name, logging.WARNING, "", 0, msg, args, None)
    >>> is_noise(rec("root", "apitools not found, and bigquery client libraries are not available"))
    True
    >>> is_noise(rec("apache_beam.runners.worker.sdk_worker_main", "No semi_persistent_directory found: %s", "x"))
    True
    >>> is_noise(rec("apache_beam.options.pipeline_options", "Discarding unparseable args: %s",
    ...              ["--direct_runner_use_stacked_bundle", "--pipeline_type_check"]))
    True
    >>> is_noise(rec("apache_beam.options.pipeline_options", "Discarding unparseable args: %s",
    ...              ["--pipeline_type_check", "--my_typo=1"]))
    False
    >>> is_noise(rec("pipeline.stages", "apitools not found"))
    False
    """
    msg = str(record.msg)
    if record.name == "root":
        return is_bigquery_noise(record)
    if record.name == "apache_beam.runners.worker.sdk_worker_main":
        return msg.startswith("No semi_persistent_directory found")
    if record.name == "apache_beam.options.pipeline_options" and msg.startswith("Discarding unparseable args"):
        args = record.args[0] if isinstance(record.args, tuple) and record.args else None
        return isinstance(args, list) and bool(args) and all(
            str(a).split("=", 1)[0] in _RUNNER_ONLY_ARGS for a in args)
    return False


class _DropNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not is_noise(record)


def install_filters() -> None:
    """Drops the noise at the loggers that emit it, before any handler (stderr or
    the runner's log channel) sees it. Idempotent."""
    for name in ("", "apache_beam.runners.worker.sdk_worker_main", "apache_beam.options.pipeline_options"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropNoise) for f in logger.filters):
            logger.addFilter(_DropNoise())


def main(argv: list[str]) -> None:  # pragma: no cover - runs as a worker subprocess
    childproc.stop_on_sigint()
    # A stderr handler at WARNING before Beam is imported: otherwise the first
    # root-level warning installs logging's default handler, and the harness then
    # prints its INFO start-up lines on stderr once it lowers the root level.
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
    logging.getLogger().addHandler(handler)
    install_filters()
    from apache_beam.runners.worker import sdk_worker_main

    sdk_worker_main.main(argv)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv)
