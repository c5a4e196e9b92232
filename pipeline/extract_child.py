"""The isolated extraction process: ``python -m pipeline.extract_child FD``.

Started by :class:`pipeline.extract.Extractor` with one end of a socket pair as
file descriptor ``FD``. The first message is the :class:`~pipeline.extract.ExtractOptions`;
then :func:`pipeline.extract._child_main` answers pages until it reads ``None``
or the parent goes away (EOF). Deliberately tiny: the child imports trafilatura
(on the first page) and nothing of Beam.
"""

from __future__ import annotations

import signal
import sys
from multiprocessing.connection import Connection


def main(argv: list[str]) -> int:  # pragma: no cover - runs as the child process
    # Ctrl-C reaches the whole process group: the child just stops (no
    # KeyboardInterrupt traceback); its parent reports the interruption.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    conn = Connection(int(argv[1]))
    try:
        options = conn.recv()
    except EOFError:
        return 0
    from pipeline.extract import _child_main

    _child_main(conn, options)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv))
