"""How furui starts its own Python child processes (Beam-free).

Two kinds of child run furui code in a fresh interpreter: the isolated
extraction process (:mod:`pipeline.extract_child`) and, on the local runner,
the SDK workers (:mod:`pipeline.worker`). Both must import the *same* furui as
the process that starts them, whatever the current directory holds: ``python
-m`` puts the current directory first on the import path, so a ``pipeline.py``
(or ``filters/``, ``dedup/``, ``schemas/``) where the user happens to run furui
would be imported instead. So a child is started as::

    python <parent's flags> -P -c <bootstrap> MODULE ARGS...

* ``-P`` (Python 3.11+): nothing is prepended to its import path;
* the bootstrap puts the parent's ``sys.path`` (in the parent's order, plus the
  directory furui was imported from if it is not on it) in front of the
  child's own, then runs ``MODULE`` as ``__main__`` with ``ARGS`` (what a
  ``multiprocessing`` spawn child gets, without re-running the parent's
  ``__main__``). It does not go through ``PYTHONPATH``, so it holds with
  ``-E``/``-I`` and on any shell;
* the parent's interpreter flags (``-X ...``, ``-O``, warnings options).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

_BOOTSTRAP = (
    "import runpy, sys; sys.path[:0] = {path!r}; module = sys.argv.pop(1); "
    "runpy.run_module(module, run_name='__main__', alter_sys=True)"
)


def stop_on_sigint() -> None:
    """In a child: Ctrl-C (which reaches the whole process group) just stops it,
    without a ``KeyboardInterrupt`` traceback; the process that started it
    reports the interruption. A child of a run started with SIGINT ignored (a
    background job) keeps ignoring it."""
    import signal

    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.SIG_DFL)


def import_path() -> list[str]:
    """Absolute import path for a child: the parent's ``sys.path`` in its order,
    preceded by furui's own root only if that is not already on it.

    >>> path = import_path()
    >>> import pipeline
    >>> os.path.dirname(os.path.dirname(os.path.abspath(pipeline.__file__))) in path
    True
    >>> all(os.path.isabs(p) for p in path) and len(path) == len(set(path))
    True
    """
    import pipeline

    root = os.path.dirname(os.path.dirname(os.path.abspath(pipeline.__file__)))
    out: list[str] = []
    for entry in sys.path:
        if not isinstance(entry, str):
            continue
        entry = os.path.abspath(entry) if entry else os.getcwd()
        if entry not in out:
            out.append(entry)
    if root not in out:
        out.insert(0, root)
    return out


def python_argv(module: str, *args: str) -> list[str]:
    """The command line that runs ``module`` with ``args`` as described above.

    >>> argv = python_argv("pipeline.worker", "x")
    >>> argv[0] == sys.executable and "-P" in argv and argv[-2:] == ["pipeline.worker", "x"]
    True
    """
    # The same helper multiprocessing uses to pass the interpreter's flags on.
    flags = subprocess._args_from_interpreter_flags()
    return [sys.executable, *flags, "-P", "-c", _BOOTSTRAP.format(path=import_path()), module, *args]


def shell_command(module: str, *args: str) -> str:
    """:func:`python_argv` as one command line for the platform's shell (Beam
    starts local SDK workers from a command string, with ``shell=True``).

    >>> cmd = shell_command("pipeline.worker")
    >>> cmd.endswith(" pipeline.worker") and " -P -c " in cmd
    True
    """
    argv = python_argv(module, *args)
    return shlex.join(argv) if os.name == "posix" else subprocess.list2cmdline(argv)
