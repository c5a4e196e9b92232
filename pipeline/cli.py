"""The ``furui`` command: ``run``, ``card`` and ``publish``."""

from __future__ import annotations

import logging
import sys

USAGE = """usage: furui <command> [args]

commands:
  run [INPUT ...] --output DIR [--config FILE] [beam options]
                      run the pipeline (no INPUT: the bundled sample)
  card OUTPUT_DIR     (re)write the dataset card of a finished run
  publish OUTPUT_DIR s3://bucket/prefix [--endpoint-url URL]
                      upload a finished run to object storage
"""


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
    return not (record.name == "root" and str(record.msg).startswith("apitools not found"))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``furui`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if _not_beam_bigquery_noise not in handler.filters:
            handler.addFilter(_not_beam_bigquery_noise)
    for noisy in ("apache_beam", "trafilatura", "htmldate", "courlan", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "run":
        from pipeline.run import run

        return run(rest)
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
