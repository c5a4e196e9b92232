"""The isolated extraction process: ``pipeline.extract_child FD PARENT_PID``.

Started by :class:`pipeline.extract.Extractor` (through :mod:`pipeline.childproc`)
with one end of a socket pair as file descriptor ``FD``. The first message is the :class:`~pipeline.extract.ExtractOptions`;
then :func:`pipeline.extract._child_main` answers pages until it reads ``None``
or the parent goes away (EOF). Deliberately tiny: the child imports trafilatura
(on the first page) and nothing of Beam.

If the parent dies without closing the socket cleanly while the child is busy
with a page (a killed or out-of-memory worker, on exactly the kind of page the
time limit exists for), a watchdog thread notices that the child was
re-parented and exits. It needs the GIL, so a C loop that holds the GIL
delays it until the loop returns to Python.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from multiprocessing.connection import Connection

from pipeline import childproc

#: Seconds between two checks that the parent is still alive.
WATCHDOG_S = 1.0


def _exit_with_parent(parent: int) -> None:  # pragma: no cover - runs in the child
    while True:
        time.sleep(WATCHDOG_S)
        if os.getppid() != parent:
            os._exit(0)


def main(argv: list[str]) -> int:  # pragma: no cover - runs as the child process
    childproc.stop_on_sigint()
    # The parent's pid comes from the parent itself: if it died before this
    # line, os.getppid() would already be the reaper's.
    threading.Thread(target=_exit_with_parent, args=(int(argv[2]),), daemon=True,
                     name="exit-with-parent").start()
    conn = Connection(int(argv[1]))
    try:
        options = conn.recv()
    except (EOFError, OSError):
        return 0
    from pipeline.extract import _child_main

    _child_main(conn, options)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv))
