"""Input lists: files that name the inputs, one path or pattern per line.

Common Crawl publishes each crawl's files as such a list (``warc.paths.gz``:
90,000 keys relative to the bucket), and a run over part of a crawl is most
easily given as the first N lines of it. ``furui run --inputs-from LIST``
reads them; ``--input-prefix`` says where relative lines are.

The list is read by a worker, inside the pipeline, not by the driver: a list
of 90,000 paths written into the job graph (``beam.Create``) would pass
Dataflow's 10 MB limit on a job's request, and checking each path from the
driver would be 90,000 storage calls in one loop. A path that is not there
is a counted ``unreadable_file`` reject when it is read, like any other.

Format (UTF-8; gzip-compressed when the name ends in ``.gz``, bzip2 in ``.bz2``):

* one path, glob or directory per line (``s3://b/x.warc.gz``, ``crawl/*.warc.gz``,
  ``crawl/``); surrounding white space is ignored;
* blank lines, and lines whose first non-blank character is ``#``, are skipped;
* a line that is not a URL (``scheme://``) or an absolute path is relative to
  the prefix, or without one to the directory the list is in (as in a playlist);
* a line of more than :data:`MAX_ENTRY_BYTES` bytes, one that is not UTF-8 or holds
  a control character, and one with credentials in its URL are each a
  ``bad_list_entry`` reject (the list, not the line, is named: a line with
  credentials is never written out).
"""

from __future__ import annotations

import os
from typing import BinaryIO, Iterator

MAX_ENTRY_BYTES = 4096  # S3 keys are at most 1,024 bytes, GCS names 1,024, local paths 4,096
_CHUNK = 1 << 16
_GLOB_CHARS = frozenset("*?[")


def list_base(list_path: str, prefix: str | None) -> str:
    """Where the relative lines of ``list_path`` are: ``prefix``, or the list's directory.

    A local prefix is made absolute, so workers started elsewhere resolve it alike.

    >>> list_base("s3://b/crawl/warc.paths.gz", None), list_base("x/warc.paths", "s3://commoncrawl/")
    ('s3://b/crawl', 's3://commoncrawl/')
    """
    if prefix:
        return prefix if "://" in prefix else os.path.abspath(prefix)
    if "://" in list_path:
        scheme, rest = list_path.split("://", 1)
        return f"{scheme}://{rest.rsplit('/', 1)[0]}" if "/" in rest else f"{scheme}://{rest}"
    return os.path.dirname(os.path.abspath(list_path))


def resolve_entry(entry: str, base: str) -> str:
    """The path or pattern a line of a list stands for.

    A URL or an absolute path is taken as it is; anything else is under
    ``base``. A local path is normalised (``a/./b``, ``a//b`` and ``a/x/../b``
    are one file, read once). A directory (a line ending in ``/``, or a local
    directory) stands for every file under it, as on the command line.

    >>> resolve_entry("crawl-data/CC-MAIN-2024-10/a.warc.gz", "s3://commoncrawl/")
    's3://commoncrawl/crawl-data/CC-MAIN-2024-10/a.warc.gz'
    >>> resolve_entry("gs://b/x.warc.gz", "s3://commoncrawl"), resolve_entry("seg/", "s3://b/crawl")
    ('gs://b/x.warc.gz', 's3://b/crawl/seg/**')
    >>> resolve_entry("/data/a.warc", "/lists"), resolve_entry("./a//b/../*.warc", "/lists")
    ('/data/a.warc', '/lists/a/*.warc')
    >>> resolve_entry("commoncrawl/x.warc.gz", "s3://")
    's3://commoncrawl/x.warc.gz'
    """
    if "://" in entry or entry.startswith("/"):
        path = entry
    elif "://" in base:
        path = (base if base.endswith("/") else base + "/") + entry
    else:
        path = os.path.join(base, entry)
    if "://" not in path:
        path = os.path.normpath(path) + ("/" if path.endswith("/") else "")  # normpath drops the "/"
    return directory_pattern(path)


def directory_pattern(path: str) -> str:
    """A directory stands for every file under it: ``dir`` -> ``dir/**``, for a
    local directory or any path ending in ``/`` (``s3://bucket/crawl/``).

    >>> directory_pattern("s3://b/crawl/"), directory_pattern("a.warc.gz")
    ('s3://b/crawl/**', 'a.warc.gz')
    """
    if path.endswith("/") or ("://" not in path and not has_glob(path) and os.path.isdir(path)):
        return path.rstrip("/") + "/**"
    return path


def has_glob(pattern: str) -> bool:
    """Whether ``pattern`` holds a glob character (``*``, ``?`` or ``[``).

    >>> has_glob("s3://b/seg/*.warc.gz"), has_glob("s3://b/seg/a.warc.gz")
    (True, False)
    """
    return not _GLOB_CHARS.isdisjoint(pattern)


def decompressed(path: str, raw: BinaryIO) -> BinaryIO:
    """``raw`` (the bytes of the list ``path``) decompressed by the name's extension.

    Python's own readers are used, not Beam's ``CompressedFile``: that one ends
    a gzip stream cut short without an error, so a list truncated in transfer
    would silently lose its tail. These raise ``EOFError`` instead.
    """
    import bz2
    import gzip

    name = path.lower()
    if name.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if name.endswith(".bz2"):
        return bz2.BZ2File(raw, mode="rb")
    return raw


def iter_entries(fh: BinaryIO) -> Iterator[tuple[int, str | None, str]]:
    """``(line number, entry, problem)`` for each line of ``fh`` that is not blank
    or a comment: ``entry`` is the stripped line, or ``None`` with ``problem``
    saying why the line cannot be one. Memory is bounded by
    :data:`MAX_ENTRY_BYTES` whatever the file holds (a WARC given as a list is
    one problem per 4 KB line, not a buffer of the whole file).

    >>> import io
    >>> list(iter_entries(io.BytesIO(b"\\xef\\xbb\\xbfa.warc\\r\\n\\n  # note\\n b/ \\n\\xff\\n")))
    [(1, 'a.warc', ''), (4, 'b/', ''), (5, None, 'not UTF-8')]
    """
    lineno, buf, too_long = 0, b"", False
    while True:
        chunk = fh.read(_CHUNK)
        if not chunk:
            break
        buf += chunk  # buf held only the start of a line: at most MAX_ENTRY_BYTES
        start = 0
        while (cut := buf.find(b"\n", start)) >= 0:
            line, start = buf[start:cut], cut + 1
            lineno += 1
            if too_long:  # the end of a line already reported
                too_long = False
                continue
            out = _entry(line, lineno)
            if out is not None:
                yield out
        buf = buf[start:]
        if len(buf) > MAX_ENTRY_BYTES and not too_long:
            # Said now, not at the line's end, which may never come (/dev/zero).
            yield lineno + 1, None, f"line longer than {MAX_ENTRY_BYTES:,} bytes"
            too_long = True
        if too_long:
            buf = b""  # the rest of this line is skipped as it comes
    if buf and not too_long:
        out = _entry(buf, lineno + 1)
        if out is not None:
            yield out


def _entry(line: bytes, lineno: int) -> tuple[int, str | None, str] | None:
    if lineno == 1 and line.startswith(b"\xef\xbb\xbf"):
        line = line[3:]
    if len(line) > MAX_ENTRY_BYTES:
        return lineno, None, f"line longer than {MAX_ENTRY_BYTES:,} bytes"
    try:
        text = line.decode("utf-8").strip()
    except UnicodeDecodeError:
        return lineno, None, "not UTF-8"
    if not text or text.startswith("#"):
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        return lineno, None, "holds a control character"
    return lineno, text, ""
