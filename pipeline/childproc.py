"""How furui starts its own Python child processes (Beam-free).

Two kinds of child run furui code in a fresh interpreter: the isolated
extraction process (``python -m pipeline.extract_child``) and, on the local
runner, the SDK workers (``python -m pipeline.worker``). Both must import the
*same* furui as the process that starts them, whatever the current directory
holds: ``python -m`` normally puts the current directory first on the import
path, so a ``pipeline.py`` (or ``filters/``, ``dedup/``, ``schemas/``) where the
user happens to run furui would be imported instead. So a child gets:

* ``-P`` (Python 3.11+): nothing is prepended to its import path;
* ``PYTHONPATH``: the directory furui was imported from, then the parent's
  ``sys.path`` (what a ``multiprocessing`` spawn child would get);
* the parent's interpreter flags (``-X ...``, ``-O``, warnings options).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys


def import_path() -> list[str]:
    """Absolute import path for a child: furui's own root first, then ``sys.path``.

    >>> path = import_path()
    >>> import pipeline
    >>> path[0] == os.path.dirname(os.path.dirname(os.path.abspath(pipeline.__file__)))
    True
    >>> all(os.path.isabs(p) for p in path) and len(path) == len(set(path))
    True
    """
    import pipeline

    root = os.path.dirname(os.path.dirname(os.path.abspath(pipeline.__file__)))
    out: list[str] = []
    for entry in [root, *sys.path]:
        if not isinstance(entry, str):
            continue
        entry = os.path.abspath(entry) if entry else os.getcwd()
        if entry not in out:
            out.append(entry)
    return out


def python_argv(module: str, *args: str) -> list[str]:
    """``[python, <parent's flags>, -P, -m, module, *args]``."""
    # The same helper multiprocessing uses to pass the interpreter's flags on.
    flags = subprocess._args_from_interpreter_flags()
    return [sys.executable, *flags, "-P", "-m", module, *args]


def child_env() -> dict[str, str]:
    """The parent's environment with ``PYTHONPATH`` set to :func:`import_path`."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(import_path())}


def shell_command(module: str, *args: str) -> str:
    """:func:`python_argv` as one ``/bin/sh`` command line that sets ``PYTHONPATH``
    itself (Beam starts local SDK workers from a command string, with ``shell=True``).

    >>> cmd = shell_command("pipeline.worker")
    >>> cmd.startswith("PYTHONPATH=") and " exec " in cmd and cmd.endswith("-P -m pipeline.worker")
    True
    """
    path = os.pathsep.join(import_path())
    return f"PYTHONPATH={shlex.quote(path)} exec {shlex.join(python_argv(module, *args))}"
