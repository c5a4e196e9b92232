"""Input readers: WARC / ARC / WET / JSONL / HTML files to :class:`Record` or :class:`Reject`.

This module is Beam-free on purpose (the Beam layer opens a path with
``FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)`` and
hands the binary file object to :func:`read_records`), so it is tested with
plain pytest.

Contract:

* Every record entering yields exactly one output: a :class:`Record` (HTML to
  extract, or already-extracted text) or a :class:`Reject` with
  ``stage == filter == "read"`` and a reason from :data:`READ_REASONS`.
* :func:`read_records` never raises. A truncated file yields every complete
  record before the break and one ``truncated`` reject for the broken tail.
* Ids are deterministic across reruns (WARC-Record-ID, else a SHA-1 of the
  file basename and the record offset in the uncompressed stream).

Formats are detected from content (gzip magic bytes, then ``WARC/``,
``filedesc://``, ``{``, HTML markers), with the ``source`` name as a tie-breaker.

Parser choice (measured on every file under ``../shared/data/warc``, see
``tests/pipeline/test_readers.py`` and the numbers below):

* **fastwarc 2.0.1** is the fastest library but cannot read ARC (4 files fail on
  the first record), raises mid-file on ``example-trunc.warc`` (record cut short),
  parses the LF-only ``cc_net/sample.warc.txt`` as one garbage record and
  silently returns the cut-short record of ``clipped.warc.gz``.
* **warcio 1.8.1** reads ARC, but raises ``ArchiveLoadFailed`` on the non-chunked
  gzip files (``example-bad*.warc.gz*``), on ``example-wrong-chunks.warc.gz`` and on
  the LF-only WET file, and also returns the clipped record silently.

Neither library reports *where* and *why* a record is broken, which our
accounting needs (one reject per broken record, resynchronisation on the next
``WARC/`` header). So the reader is a small streaming parser of our own over
``zlib`` (member-aware gzip, truncation detected from the decompressor state),
with the HTTP layer (de-chunking, gzip/deflate/br) also ours. It only buffers
the record being parsed; bodies above ``max_payload_bytes`` are skipped in
chunks without being held in memory, and non-HTML bodies are never decoded.

Throughput (one core, best of 2; 20 copies of the well-formed ``.warc.gz`` files
of dolma, resiliparse, ukwa concatenated: 12,000 records, 31 MB gzip / 90 MB raw;
every record parsed and every body read):

=========  ================  ===============
reader     ``.warc.gz``      ``.warc``
=========  ================  ===============
fastwarc   0.18 s            0.04 s
warcio     0.76 s            0.44 s
this       0.57 s (55 MB/s)  0.25 s
=========  ================  ===============

This reader is ~3x slower than fastwarc but faster than warcio, i.e. ~50 us per
record, two orders of magnitude below trafilatura's per-page cost, so reading
is never the bottleneck; exact accounting of broken input is worth more.

Outcomes on the malformed files: ``clipped.warc.gz`` -> one ``truncated``;
``example-trunc.warc`` and ``example-wrong-chunks.warc.gz`` -> the HTTP body is
short of its HTTP Content-Length but the WARC framing is intact: the page is
incomplete, a ``truncated`` reject ("page cut short: ..."), or with
``keep_truncated_pages`` a record flagged ``truncated`` (the rest of the file reads normally);
``example-bad*.warc.gz*`` (one gzip member for the whole file) read normally;
``bad.arc`` -> three ``malformed_record`` (length ``-1``/``abc``) plus one record;
``example-space-in-url.arc`` -> last record ``truncated`` (12 bytes missing);
``cc_net/sample.warc.txt`` (Content-Length counted in characters) -> three
``malformed_record``, each resynchronised on the next ``WARC/`` line.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import posixpath
import re
import time
import zlib
from typing import Any, BinaryIO, Callable, Iterator

from schemas.records import Record, Reject

#: Closed set of reasons a record is rejected at the ``read`` stage.
READ_REASONS: tuple[str, ...] = (
    "not_response",  # warcinfo, request, metadata, revisit, continuation... records
    "not_html",  # HTTP body or resource is not HTML/XHTML (content type in detail)
    "http_status",  # HTTP status outside 2xx (status in detail)
    "empty_payload",  # nothing (or only whitespace) after decoding
    "too_large",  # payload above max_payload_bytes (skipped without buffering)
    "bad_content_encoding",  # Content-Encoding gzip/deflate/br could not be decoded
    "malformed_record",  # unparseable headers, bad Content-Length, no WARC-Type, stray bytes
    "truncated",  # gzip stream or record cut short (once, for the broken tail), whatever the record's type;
    # or a page known to be incomplete ("page cut short: ...": WARC-Truncated, Content-Length), once per page
    "bad_json",  # JSONL line that is not an object with html or text
    "unreadable_file",  # cannot read the file, or unknown format
    "read_error",  # the storage kept failing mid-file (after retries): the rest of the file is unread
    "bad_list_entry",  # a line of an input list (--inputs-from) that cannot name a file (pipeline.input_lists)
)

STAGE = "read"

_CHUNK = 1 << 20  # compressed bytes per read(); also the skip step
_FEED = 1 << 15  # compressed bytes per zlib call (see _gzip_chunks)
_MAX_HEADER_BYTES = 1 << 16  # a WARC/ARC/HTTP header block larger than this is malformed
_SNIFF_BYTES = 1024
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_WARC_LINE = re.compile(rb"(?:\r?\n|^)WARC/\d+\.\d+\r?\n")
_COMPRESSION_SUFFIXES = (".gz", ".gzip")
# NUL/whitespace padding tolerated between (and after) gzip members.
_GZIP_PADDING = b"\x00\r\n\t "


# What may stand before a record's first line besides line breaks (NUL padding
# between records, stray spaces): skipped by the record loop, so also by the
# checks of where a record ends.
_RECORD_PADDING = b"\x00 \t"
#: Blank lines and padding between records: what the record loops skip.
_BETWEEN_RECORDS = b"\r\n" + _RECORD_PADDING


def _is_warc_header(line: bytes) -> bool:
    """Whether a line (with its line break) is a WARC version line."""
    return line.startswith(b"WARC/") and _WARC_LINE.match(line) is not None


# --------------------------------------------------------------------------- stream


class ReadFailed(Exception):
    """The storage kept failing while a file was read, also after reopening it."""


# Errors that another attempt cannot fix: not retried.
_PERMANENT_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError,
                     NotImplementedError)


def _is_permanent(exc: Exception) -> bool:
    """A missing object or a denied access, locally or on an object store (Beam's
    S3 client and Google's API errors carry the HTTP status as ``code``).

    >>> class S3ClientError(Exception):
    ...     code = 404
    >>> _is_permanent(S3ClientError()), _is_permanent(FileNotFoundError()), _is_permanent(TimeoutError())
    (True, True, False)
    """
    if isinstance(exc, _PERMANENT_ERRORS):
        return True
    details = getattr(exc, "exception_details", None)  # Beam's BeamIOError, per path
    if isinstance(details, dict) and details:
        return all(isinstance(e, Exception) and _is_permanent(e) for e in details.values())
    try:
        return int(getattr(exc, "code", 0) or 0) in (403, 404)
    except (TypeError, ValueError):
        return False


def retry_call(fn: Callable[[], Any], retries: int = 4, pause_s: float = 0.25,
               sleep: Callable[[float], None] = time.sleep,
               on_error: Callable[[Exception], None] | None = None) -> Any:
    """``fn()``, called again after a transient storage error (up to ``retries``
    times, pauses doubling from ``pause_s``); a permanent one (:func:`_is_permanent`)
    or the last is raised. ``on_error(exc)`` sees every failure first.

    >>> calls = []
    >>> def flaky():
    ...     calls.append(1)
    ...     if len(calls) < 3:
    ...         raise TimeoutError("slow down")
    ...     return "listed"
    >>> retry_call(flaky, sleep=lambda s: None), len(calls)
    ('listed', 3)
    """
    attempt = 0
    while True:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - any storage error: try again
            if on_error is not None:
                on_error(exc)
            if _is_permanent(exc) or attempt >= retries:
                raise
            sleep(pause_s * 2 ** attempt)
            attempt += 1


class RetryingFile:
    """A read-only file that survives transient storage errors.

    ``read`` failures (a reset connection, a timeout, a throttled object store)
    reopen the file with ``opener`` and continue at the same byte, up to
    ``retries`` times with doubling pauses; then :class:`ReadFailed`. A
    transient error thus changes nothing in the output (reruns stay identical),
    and a lasting one is a counted ``read_error``, never a silent end of file:
    before, any exception ended the stream as if the file ended there.

    Opening is retried the same way (the first ``read`` opens the file); a
    missing file, a denied permission or an unsupported object is not (another
    attempt cannot fix it). Positions are kept by counting bytes; a file object
    that cannot seek is read forward to the position. A reopening reads the
    object as it is then: one replaced while it was being read would be spliced
    (object stores' generations are not pinned).

    >>> import io
    >>> failures = [1]  # the second read of the first handle fails once
    >>> class Flaky(io.BytesIO):
    ...     def read(self, n=-1):
    ...         if self.tell() == 2 and failures:
    ...             raise ConnectionResetError(failures.pop())
    ...         return super().read(n)
    >>> f = RetryingFile(lambda: Flaky(b"abcd"), sleep=lambda s: None)
    >>> f.read(2), f.read(2), f.read(2), f.pos, f.retried
    (b'ab', b'cd', b'', 4, 1)
    """

    def __init__(self, opener: Callable[[], BinaryIO], retries: int = 4, pause_s: float = 0.25,
                 sleep: Callable[[float], None] = time.sleep):
        self._opener = opener
        self._f: BinaryIO | None = None
        self.retries = retries
        self.pause_s = pause_s
        self._sleep = sleep
        self.pos = 0
        self.retried = 0  # reopenings over the file's whole read

    def _open_at(self, pos: int) -> BinaryIO:
        f = self._opener()
        try:
            if pos:
                try:
                    f.seek(pos)
                except Exception:  # noqa: BLE001 - not seekable: read forward
                    left = pos
                    while left:
                        got = f.read(min(left, 1 << 20))
                        if not got:
                            raise EOFError(f"file shorter than {pos} bytes on reopening")
                        left -= len(got)
        except BaseException:
            try:
                f.close()
            except Exception:  # noqa: BLE001
                pass
            raise
        return f

    def read(self, n: int = -1) -> bytes:
        def attempt() -> bytes:
            if self._f is None:
                self._f = self._open_at(self.pos)
            data = self._f.read(n)
            self.pos += len(data)
            return data

        failures = [0]

        def failed(exc: Exception) -> None:  # the next attempt reopens the file
            self._drop()
            failures[0] += 1

        try:
            data = retry_call(attempt, self.retries, self.pause_s, self._sleep, failed)
        except Exception as exc:  # noqa: BLE001 - the storage kept failing, or for good
            self.retried += failures[0] - 1  # the last failure was not retried
            raise ReadFailed(f"{type(exc).__name__}: {exc} (at byte {self.pos}, "
                             f"{failures[0] - 1} retries)") from exc
        self.retried += failures[0]
        return data

    def _drop(self) -> None:
        if self._f is not None:
            try:
                self._f.close()
            except Exception:  # noqa: BLE001 - closing a broken handle may fail too
                pass
            self._f = None

    def close(self) -> None:
        self._drop()

    def __enter__(self) -> "RetryingFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _TruncatedInput(Exception):
    """Raised internally when the gzip layer stops before the end of a member."""


def _raw_chunks(fileobj: BinaryIO) -> Iterator[bytes]:
    while True:
        chunk = fileobj.read(_CHUNK)
        if not chunk:
            return
        yield chunk


class _Stream:
    """Buffered byte stream over raw or gzip chunks, with pushback and an offset.

    The buffer is an immutable ``bytes`` plus a read index, so consuming and
    pushing back the bytes just read are O(1) (no memmove of the buffer).
    Decompression errors end the stream early and are kept in ``error`` so the
    parser can turn "unexpected EOF" into a ``truncated`` reject with a detail.
    """

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._buf = b""
        self._i = 0
        self._eof = False
        self.pos = 0  # offset of the next unread byte in the (uncompressed) stream
        self.error = ""
        self.read_failed = ""  # the storage's error when it kept failing (ReadFailed)
        self.gaps: list[tuple[int, _Gap]] = []  # corrupt gzip data skipped, see _gzip_chunks

    def _fill(self) -> bool:
        if self._eof:
            return False
        try:
            chunk = next(self._chunks)
            while isinstance(chunk, _Gap):
                # Where in the uncompressed stream the bytes after the gap begin.
                self.gaps.append((self.pos + self._avail(), chunk))
                chunk = next(self._chunks)
        except StopIteration:
            self._eof = True
            return False
        except _TruncatedInput as exc:
            self.error = str(exc)
            self._eof = True
            return False
        except ReadFailed as exc:  # retried already (RetryingFile): the rest is unreadable
            self.error = self.read_failed = f"storage read failed: {exc}"
            self._eof = True
            return False
        except Exception as exc:  # noqa: BLE001 - any other failure ends the stream
            self.error = f"{type(exc).__name__}: {exc}"
            self._eof = True
            return False
        self._buf = self._buf[self._i :] + chunk
        self._i = 0
        return True

    def _avail(self) -> int:
        return len(self._buf) - self._i

    def peek(self, n: int) -> bytes:
        while self._avail() < n and self._fill():
            pass
        return self._buf[self._i : self._i + n]

    def readline(self, limit: int = _MAX_HEADER_BYTES) -> bytes:
        """Returns one line including ``\\n`` (shorter at EOF or when over ``limit``)."""
        start = self._i
        while True:
            j = self._buf.find(b"\n", start, self._i + limit)
            if j >= 0:
                return self._take(j + 1 - self._i)
            if self._avail() >= limit:
                return self._take(limit)
            start = len(self._buf)
            i_before = self._i
            if not self._fill():
                return self._take(self._avail())
            start -= i_before  # the buffer was rebased to start at the read index

    def read_header_block(self, limit: int = _MAX_HEADER_BYTES) -> bytes | None:
        """Reads up to and including the first empty line (LF or CRLF).

        Returns None, consuming nothing, if there is none within ``limit`` bytes.
        """
        start = self._i
        while True:
            # Bounded searches: an unbounded find() for the LF-only terminator
            # would scan the whole buffer for every CRLF record.
            stop_at = self._i + limit
            crlf = self._buf.find(b"\n\r\n", start, stop_at)
            lf = self._buf.find(b"\n\n", start, crlf + 2 if crlf >= 0 else stop_at)
            ends = [j for j in (crlf, lf) if j >= 0]
            if self._buf.startswith((b"\r\n", b"\n"), self._i):
                return self.readline()  # empty header block
            if ends:
                end = min(ends)
                stop = end + (3 if self._buf.startswith(b"\n\r\n", end) else 2)
                if stop - self._i <= limit:
                    return self._take(stop - self._i)
                return None
            if self._avail() >= limit:
                return None
            start = max(self._i, len(self._buf) - 2)
            i_before = self._i
            if not self._fill():
                return None
            start -= i_before

    def read(self, n: int) -> bytes:
        while self._avail() < n and self._fill():
            pass
        return self._take(min(n, self._avail()))

    def skip(self, n: int) -> int:
        """Discards up to ``n`` bytes without keeping them; returns how many."""
        done = 0
        while done < n:
            if not self._avail() and not self._fill():
                break
            k = min(n - done, self._avail())
            self._i += k
            done += k
        self.pos += done
        return done

    def skip_run(self, chars: bytes) -> int:
        """Consumes every byte in ``chars`` from here on; returns how many."""
        done = 0
        while self._avail() or self._fill():
            if self._buf[self._i] not in chars:  # the usual case: nothing to skip, no copy
                return done
            rest = self._buf[self._i : self._i + _CHUNK]
            n = len(rest) - len(rest.lstrip(chars))
            self._i += n
            self.pos += n
            done += n
            if n < len(rest):
                return done
        return done

    def skip_watching(self, n: int, keep_limit: int,
                      is_header: Callable[[bytes], bool]) -> tuple[int, bytes | None, list[int]]:
        """Discards up to ``n`` bytes, remembering the records that start inside them.

        A record starts at a line for which ``is_header`` holds. Returns ``(skipped, tail, lost)``: ``tail`` is the skipped
        bytes from the latest record starts that fit in ``keep_limit`` bytes to
        the end of what was skipped (``None`` if none do), and ``lost`` the
        offsets of the record starts before it (memory stays bounded). A caller
        that learns the claimed length was wrong can :meth:`unread` the tail, read
        the records it holds and count the lost ones.
        """
        done, at_line_start = 0, True
        segments: list[tuple[int, list[bytes]]] = []  # (offset, lines) from one record start each
        size, lost = 0, []
        while done < n:
            line = self.readline(min(_MAX_HEADER_BYTES, n - done))
            if not line:
                break
            done += len(line)
            if at_line_start and is_header(line):
                segments.append((self.pos - len(line), [line]))
                size += len(line)
            elif segments:
                segments[-1][1].append(line)
                size += len(line)
            while size > keep_limit and segments:  # drop the oldest record starts
                offset, lines = segments.pop(0)
                lost.append(offset)
                size -= sum(len(x) for x in lines)
            at_line_start = line.endswith(b"\n")
        tail = b"".join(b"".join(lines) for _, lines in segments) if segments else None
        return done, tail, lost

    def unread(self, data: bytes) -> None:
        n = len(data)
        if n <= self._i and self._buf[self._i - n : self._i] == data:
            self._i -= n
        else:
            self._buf = data + self._buf[self._i :]
            self._i = 0
        self.pos -= n

    @property
    def exhausted(self) -> bool:
        """True once the underlying input has ended (buffered bytes may remain)."""
        return self._eof

    def at_eof(self) -> bool:
        return not self._avail() and not self._fill()

    def _take(self, n: int) -> bytes:
        out = self._buf[self._i : self._i + n]
        self._i += n
        self.pos += n
        return out

    def as_utf8(self, codec: str) -> "_Stream":
        """The unread rest of this stream decoded from ``codec`` (a codec without a
        byte-order mark: ``utf-16-le`` or ``utf-16-be``, the BOM already consumed) and
        re-encoded as UTF-8, as a new stream (offsets count its UTF-8 bytes).
        Undecodable bytes become U+FFFD; after a corrupt gzip member a fresh decoder
        of the same byte order starts on the next one; this stream's end (its error,
        or a storage failure) is the new stream's end."""
        old = self

        def utf8(text: str) -> Iterator[bytes]:
            if text:  # never an empty chunk: _Stream reads one as more data to come
                yield text.encode("utf-8", "surrogatepass")

        def chunks() -> Iterator[bytes | _Gap]:
            decoder = codecs.getincrementaldecoder(codec)("replace")
            pending, old._buf, old._i = old._buf[old._i :], b"", 0
            for _, gap in old.gaps:  # met while sniffing: reported at the start
                yield gap
            old.gaps.clear()
            while True:
                if pending:
                    yield from utf8(decoder.decode(pending))
                if old._eof:
                    break
                try:
                    pending = next(old._chunks)
                except StopIteration:
                    break
                if isinstance(pending, _Gap):
                    yield from utf8(decoder.decode(b"", final=True))  # a dangling byte: U+FFFD
                    decoder = codecs.getincrementaldecoder(codec)("replace")
                    yield pending
                    pending = b""
            yield from utf8(decoder.decode(b"", final=True))
            if old.read_failed:
                raise ReadFailed(old.read_failed.removeprefix("storage read failed: "))
            if old.error:
                raise _TruncatedInput(old.error)

        return _Stream(chunks())


class _Gap:
    """Marker in the chunk stream: corrupt compressed bytes were skipped to the next
    gzip member. ``lost`` is how many records it cost that appear nowhere else (a
    member that gave no byte at all); a member cut after some bytes shows up as a
    record cut short by the next one instead."""

    __slots__ = ("skipped", "lost", "error")

    def __init__(self, skipped: int, lost: int, error: str):
        self.skipped, self.lost, self.error = skipped, lost, error


_GZIP_MAGIC = b"\x1f\x8b\x08"


def _gzip_after_damage(first: bytes, source: str) -> bool:
    """A file named ``.gz`` whose first bytes are not gzip's magic but which holds a
    gzip member header soon after (the first member's header damaged, or a stray
    byte before it): read as gzip, so that only the damaged part is lost. Read as
    plain bytes, every member of it was one unreadable record.

    >>> import gzip
    >>> good = gzip.compress(b"WARC/1.0\\r\\n", mtime=0) * 2
    >>> _gzip_after_damage(b"X" + good, "a.warc.gz"), _gzip_after_damage(b"X" + good, "a.warc")
    (True, False)
    >>> _gzip_after_damage(b"WARC/1.0\\r\\nplain text", "mislabelled.warc.gz")
    False
    >>> _gzip_after_damage(b"WARC/1.0\\r\\n...\\r\\n\\r\\n" + good, "served-decompressed.warc.gz")
    False

    A file that starts like a plain record (``WARC/``, an ARC header, JSON, HTML)
    is plain whatever follows: a WARC stored decompressed under its ``.gz`` name
    (object stores serve ``Content-Encoding: gzip`` objects so) holds gzip headers
    in its gzip-encoded HTTP bodies.
    """
    if not source.lower().endswith(_COMPRESSION_SUFFIXES):
        return False
    start = first.lstrip(_BETWEEN_RECORDS)
    if start.startswith((b"WARC/", b"{", b"<")) or _ARC_HEADER_START.match(start):
        return False
    at = first.find(_GZIP_MAGIC)
    while at >= 0:
        if at + 10 <= len(first) and _plausible_gzip_header(first, at):
            return True
        at = first.find(_GZIP_MAGIC, at + 1)
    return False


def _plausible_gzip_header(raw: bytes, at: int) -> bool:
    """A gzip member header, not three look-alike bytes inside corrupt data:
    reserved flag bits clear, a known XFL and OS (RFC 1952)."""
    head = raw[at : at + 10]
    return (len(head) == 10 and head[:3] == _GZIP_MAGIC and not head[3] & 0xE0
            and head[8] in (0, 2, 4) and (head[9] <= 13 or head[9] == 255))


def _gzip_chunks(first: bytes, fileobj: BinaryIO) -> Iterator[bytes | _Gap]:
    """Decompresses concatenated gzip members (one per record, or one for all).

    Input is fed in small slices: when a member ends, zlib copies the rest of the
    slice into ``unused_data``, and with per-record members (thousands per file)
    feeding whole megabytes made that copy quadratic.

    Corrupt data skips to the next gzip header (searched from just after the
    start of the member that failed, if it gave nothing yet) and yields a
    :class:`_Gap` before the next good bytes, so one damaged record of a
    per-record-gzip WARC costs that record, not the rest of the file. A member
    cut after some bytes is followed by a line break, so the next record's
    header starts a line and the cut record is reported as cut short by it.

    Raises:
        _TruncatedInput: the input ends inside a member, or corrupt data with no
            gzip member after it.
    """
    inp = _raw_chunks(fileobj)
    raw, pos = first, 0
    dec = zlib.decompressobj(31)
    fed = False  # whether the current member received any byte
    member_at, member_out = 0, 0  # where the current member starts in raw; bytes it gave
    gap: _Gap | None = None  # skipped corrupt data, reported with the next good bytes
    cut = False  # a member failed after giving bytes: end its line
    while True:
        if pos >= len(raw):
            chunk = next(inp, b"")
            if not chunk:
                if gap is not None:
                    raise _TruncatedInput(gap.error)
                if fed and not dec.eof:
                    raise _TruncatedInput("gzip stream ends inside a member")
                return
            if fed and not member_out and not dec.eof and pos - member_at <= _CHUNK:
                # A member that has given nothing yet keeps its start in the
                # window, so a failure can rescan from just after it.
                raw, pos, member_at = raw[member_at:] + chunk, pos - member_at, 0
            else:
                raw, pos, member_at = chunk, 0, 0
        if dec.eof:
            # Start of a new member. NUL/whitespace padding between or after
            # members is tolerated (skipped up to the next member's first byte).
            window = raw[pos : pos + 64]
            rest = window.lstrip(_GZIP_PADDING)
            pos += len(window) - len(rest)
            if not rest:
                continue
            dec = zlib.decompressobj(31)
            fed, member_at, member_out = False, pos, 0
        piece = memoryview(raw)[pos : pos + _FEED]
        fed = True
        try:
            out = dec.decompress(piece, _CHUNK * 4)
        except zlib.error as exc:
            lost = 0 if member_out else int(gap is None or _plausible_gzip_header(raw, member_at))
            if gap is None:
                gap = _Gap(0, 0, f"corrupt gzip data: {exc}")
                cut = member_out > 0
            gap.lost += lost
            # Skip to the next plausible gzip header: from just after this member's
            # start if it gave nothing (a header that swallowed real members), else
            # from here. Look-alike magics inside corrupt data are passed over.
            frm = member_at + 1 if not member_out else pos + 1
            skip_from = frm - 1
            while True:
                found = raw.find(_GZIP_MAGIC, frm)
                if found >= 0 and found + 10 <= len(raw):
                    if _plausible_gzip_header(raw, found):
                        gap.skipped += found - skip_from
                        pos = found
                        break
                    frm = found + 1
                    continue
                keep_from = found if found >= 0 else max(frm, len(raw) - 2)
                gap.skipped += keep_from - skip_from
                chunk = next(inp, b"")
                if not chunk:
                    raise _TruncatedInput(gap.error) from None
                raw, frm, skip_from = raw[keep_from:] + chunk, 0, 0
            dec = zlib.decompressobj(31)
            fed, member_at, member_out = False, pos, 0
            continue
        # Whatever zlib did not consume stays in the slice for the next round.
        pos += _consumed(dec, piece)
        if out:
            if gap is not None:
                yield gap
                if cut:
                    yield b"\r\n"
                gap, cut = None, False
            member_out += len(out)
            yield out


# --------------------------------------------------------------------------- helpers


def _consumed(dec, piece) -> int:
    """How many bytes of ``piece`` the last ``dec.decompress(piece, max_length)`` used.

    Before the stream's end, what it left is ``unconsumed_tail`` (held back by
    ``max_length``); at the end, ``unused_data`` (the bytes after the member).
    Not their sum: when a member ends in the call after one that hit
    ``max_length``, CPython 3.11 leaves the same leftover bytes in both, and
    subtracting both moved the read position backwards (a valid file then lost
    records behind a false "corrupt gzip data", or was read again forever).

    >>> import gzip, zlib
    >>> data = gzip.compress(b"x" * 300_000, mtime=0) + b"next"
    >>> dec = zlib.decompressobj(31)
    >>> used = _consumed(dec, data) if dec.decompress(data, 1000) else 0
    >>> used += _consumed(dec, data[used:]) if dec.decompress(data[used:], 10**6) else 0
    >>> dec.eof, used == len(data) - 4
    (True, True)
    """
    return len(piece) - len(dec.unused_data if dec.eof else dec.unconsumed_tail)


def _strip_compression(path: str) -> str:
    for suffix in _COMPRESSION_SUFFIXES:
        if path.lower().endswith(suffix):
            return path[: -len(suffix)]
    return path


def _basename(source: str) -> str:
    return _strip_compression(source.replace("\\", "/").rsplit("/", 1)[-1])


def _stable_id(source: str, offset: int) -> str:
    """Id of a record that has none of its own: its file's whole path and its offset.

    Ids must be unique within a run (dedup decisions and the writer key on
    them), so the whole path counts, not just the file name: ``2023/part-0.jsonl``
    and ``2024/part-0.jsonl`` must not share ids. The compression suffix is left
    out and the offset is in the uncompressed stream, so ``x.warc`` and
    ``x.warc.gz`` in the same place give the same ids. Moving the files changes them.

    >>> _stable_id("a/part.jsonl", 0) == _stable_id("a/part.jsonl.gz", 0)
    True
    >>> _stable_id("a/part.jsonl", 0) == _stable_id("b/part.jsonl", 0)
    False
    >>> _stable_id("./a//part.jsonl", 0) == _stable_id("a/part.jsonl", 0)
    True
    """
    path = source.replace("\\", "/")
    if "://" not in path:
        path = posixpath.normpath(path)  # ./data/x and data/x are one file
    return hashlib.sha1(f"{_strip_compression(path)}@{offset}".encode()).hexdigest()


_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8_safe(value: str) -> str:
    r"""``value`` with every lone surrogate replaced by U+FFFD, so it encodes as UTF-8.

    Lone surrogates reach Python strings from JSON escapes (``"\\ud800"``, which
    ``json.loads`` accepts) and from file names that are not UTF-8 (``os`` decodes
    their bytes with ``surrogateescape``). Beam's coders, Arrow and every UTF-8
    encoder refuse them: one such id, URL or file name would fail its bundle on
    every retry, and with it the job.

    >>> utf8_safe("a\ud800b\udcffc") == "a\ufffdb\ufffdc", utf8_safe("日本\U0001F600") == "日本\U0001F600"
    (True, True)
    """
    return _SURROGATE.sub("\ufffd", value)  # the same string object when there is none


def _emptiness(data: bytes, what: str) -> str:
    """The detail of an ``empty_payload`` reject.

    >>> _emptiness(b"", "body"), _emptiness(b" \\r\\n", "file")
    ('empty body', 'file of 3 whitespace bytes')
    """
    return f"empty {what}" if not data else f"{what} of {len(data)} whitespace bytes"


def _clean_record_id(value: str) -> str:
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    if value.lower().startswith("urn:uuid:"):
        value = value[len("urn:uuid:") :]
    return value


def _parse_header_lines(block: bytes) -> dict[str, str]:
    """Parses ``Name: value`` lines (folded continuations allowed); keys lower-cased."""
    # Parts are collected in lists and joined once: an HTTP head of megabytes of
    # repeated or folded lines made "+=" on strings quadratic (minutes per record).
    headers: dict[str, str] = {}
    more: dict[str, list[str]] = {}  # continuations and repeats, joined at the end
    last = ""
    for line in block.decode("utf-8", "replace").split("\n"):
        if line[:1] in (" ", "\t") and last:
            more.setdefault(last, []).append(" " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if not sep:
            continue  # tolerated: a blank or stray line inside the header block
        key = name.strip().lower()
        value = value.strip()
        if key not in headers:
            headers[key] = value
            last = key
        elif key != "content-type":  # the first Content-Type wins; others are joined
            more.setdefault(key, []).append(", " + value)
            last = key
        else:
            last = ""  # continuations of an ignored Content-Type are ignored too
    for key, parts in more.items():
        headers[key] += "".join(parts)
    return headers


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _sniff_html(body: bytes) -> bool:
    head = body[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return True
    return b"<html" in head or b"<body" in head


def _dechunk(body: bytes) -> bytes | None:
    """Decodes HTTP/1.1 chunked transfer coding; ``None`` if it is not valid chunking."""
    out = bytearray()
    pos = 0
    n = len(body)
    while pos < n:
        eol = body.find(b"\n", pos)
        if eol < 0:
            return None
        size_s = body[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_s, 16)
        except ValueError:
            return None
        if size < 0 or not size_s[:1].isalnum():
            return None  # "-4" or "+4": not a chunk size (and "-4" would loop forever)
        pos = eol + 1
        if size == 0:
            return bytes(out)
        if pos + size > n:
            return None
        out += body[pos : pos + size]
        pos += size
        # Each chunk ends with CRLF (some writers use LF only).
        if body.startswith(b"\r\n", pos):
            pos += 2
        elif body.startswith(b"\n", pos):
            pos += 1
    # Missing final zero-size chunk: accept what was decoded (a cut stream).
    return bytes(out)


def _inflate(body: bytes, wbits: int, limit: int) -> tuple[bytes, bool]:
    """zlib/gzip/deflate decoding of at most ``limit + 1`` bytes, and whether the
    body ended inside a stream (a page cut in transfer: its prefix decodes).

    A gzip body may be several members (RFC 1952; ``gzip a b > c``): all of them
    are decoded, as ``gzip -d`` does. Garbage after a complete member is ignored.
    Input is fed in slices, so a body of thousands of tiny members costs linear
    time (zlib copies everything after a member's end into ``unused_data``).

    >>> import gzip
    >>> _inflate(gzip.compress(b"ab") + b"\\n" + gzip.compress(b"cd"), 47, 100)
    (b'abcd', False)
    >>> _inflate(gzip.compress(b"abcd" * 100)[:-12], 47, 1000)[1], _inflate(gzip.compress(b"ab") + b"x", 47, 100)
    (True, (b'ab', False))
    """
    view, pos, out = memoryview(body), 0, bytearray()
    dec, later_member, member_at = zlib.decompressobj(wbits), False, 0
    while pos < len(view) and len(out) <= limit:
        if dec.eof:
            if wbits != 47:
                break  # zlib and raw deflate are one stream
            window = bytes(view[pos : pos + 64])
            rest = window.lstrip(_GZIP_PADDING)
            pos += len(window) - len(rest)
            if not rest:
                continue
            dec, later_member, member_at = zlib.decompressobj(wbits), True, len(out)
        piece = view[pos : pos + _FEED]
        try:
            chunk = dec.decompress(piece, limit + 1 - len(out))
        except zlib.error:
            if later_member:
                return bytes(out), False  # garbage after a complete member: keep what decoded
            raise
        pos += _consumed(dec, piece)
        out += chunk
    # Cut short: the stream did not end and nothing was held back by the size limit.
    # Stray bytes after a complete member that decode to nothing are not a cut member.
    stray = later_member and len(out) == member_at
    return bytes(out), not dec.eof and not stray and len(out) <= limit


def _decode_content(body: bytes, encoding: str, limit: int) -> tuple[bytes, bool]:
    """Undoes Content-Encoding: the body, and whether it was cut short (its
    decodable prefix is returned). Raises ValueError (or OverflowError when over ``limit``)."""
    cut = False
    for coding in reversed([c.strip().lower() for c in encoding.split(",") if c.strip()]):
        if coding in ("identity", "none", ""):
            continue
        if coding in ("gzip", "x-gzip", "deflate"):
            wbits = 47 if coding != "deflate" else 15  # 47 = auto gzip/zlib header
            try:
                out, short = _inflate(body, wbits, limit)
            except zlib.error:
                if coding != "deflate":
                    raise ValueError(f"{coding} decoding failed") from None
                # Raw deflate without zlib header (old IIS servers).
                try:
                    out, short = _inflate(body, -15, limit)
                except zlib.error as exc:
                    raise ValueError(f"deflate decoding failed: {exc}") from None
            cut = cut or short
        elif coding == "br":
            try:
                import brotli  # optional dependency, only for br-encoded bodies
            except ImportError:
                raise ValueError("br encoding but brotli is not installed") from None
            try:
                # Bounded output: a few KB of br can expand to gigabytes.
                dec = brotli.Decompressor()
                out = dec.process(body, output_buffer_limit=limit + 1)
                if len(out) <= limit and not dec.is_finished():
                    raise ValueError("truncated stream")
            except Exception as exc:  # noqa: BLE001 - brotli.error has no stable name
                raise ValueError(f"br decoding failed: {exc}") from None
        else:
            raise ValueError(f"unsupported content encoding {coding!r}")
        if len(out) > limit:
            raise OverflowError(f"decoded size > {limit}")
        body = out
    return body, cut


# --------------------------------------------------------------------------- reader


class _Reader:
    """State of one :func:`read_records` call (one input file)."""

    def __init__(self, source: str, max_payload_bytes: int, keep_truncated_pages: bool = False):
        self.source = source
        self.max = max_payload_bytes
        self.keep_cut = keep_truncated_pages
        self.truncation_reported = False

    # -- outputs ----------------------------------------------------------
    def reject(self, rid: str, url: str, reason: str, detail: str = "") -> Reject:
        assert reason in READ_REASONS, reason
        return Reject(
            id=rid, url=url, source=self.source, stage=STAGE, filter=STAGE, reason=reason, detail=detail
        )

    def offset_id(self, offset: int) -> str:
        return f"{self.source}@{offset}"

    def truncated(self, stream: _Stream, rid: str, url: str, detail: str) -> Reject:
        self.truncation_reported = True
        if stream.error:
            detail = f"{detail} ({stream.error})"
        return self.reject(rid, url, "truncated", detail)

    # -- HTTP payload -----------------------------------------------------
    def http_document(
        self, rid: str, url: str, date: str, block: bytes, kind_hint: str, cut: str = ""
    ) -> Record | Reject:
        """Turns an HTTP response block (status line, headers, body) into an output."""
        # Header block ends at the first empty line (CRLF CRLF, or LF LF from sloppy writers).
        m = re.search(rb"\r?\n\r?\n", block)
        if not block.startswith(b"HTTP/") or m is None:
            if block.startswith(b"HTTP/") and len(block) < _MAX_HEADER_BYTES:
                head, body = block, b""  # headers only, no body
            else:
                return self.reject(rid, url, "malformed_record", "unparseable HTTP response headers")
        else:
            head, body = block[: m.start()], block[m.end() :]
        status_line, _, rest = head.partition(b"\n")
        parts = status_line.split(None, 2)
        try:
            status = int(parts[1])
        except (IndexError, ValueError):
            return self.reject(rid, url, "malformed_record", f"bad HTTP status line {status_line[:80]!r}")
        if not 200 <= status < 300:
            return self.reject(rid, url, "http_status", str(status))
        headers = _parse_header_lines(rest)
        content_type = headers.get("content-type", "")
        if not cut and "chunked" not in headers.get("transfer-encoding", "").lower():
            # A body shorter than its Content-Length was cut in transfer (the WARC
            # framing around it is intact); a longer one is kept as it is.
            declared = headers.get("content-length", "").strip()
            if declared.isascii() and declared.isdigit() and len(body) < int(declared):
                cut = f"HTTP body {len(body)} of {int(declared)} bytes (Content-Length)"
        return self.document(rid, url, date, content_type, body, headers, kind_hint, cut)

    def document(
        self,
        rid: str,
        url: str,
        date: str,
        content_type: str,
        body: bytes,
        headers: dict[str, str],
        kind_hint: str = "html",
        cut: str = "",
    ) -> Record | Reject:
        """Applies content type, transfer/content decoding and size checks to a body.

        ``cut`` says why the page is known to be incomplete (the crawler's
        WARC-Truncated, a body short of its Content-Length); a compressed body
        that ends inside its stream is found here. Such a page is a ``truncated``
        reject, or, with ``keep_truncated_pages``, a record flagged ``truncated``.
        """
        media = _media_type(content_type)
        if media and media not in _HTML_TYPES and not (media == "application/octet-stream" and _sniff_html(body)):
            return self.reject(rid, url, "not_html", content_type)
        if "chunked" in headers.get("transfer-encoding", "").lower():
            # Some crawlers store the de-chunked body but keep the header: fall back to raw.
            decoded = _dechunk(body)
            if decoded is not None:
                body = decoded
        encoding = headers.get("content-encoding", "")
        if encoding:
            try:
                body, short = _decode_content(body, encoding, self.max)
                if short and not cut:
                    cut = f"{encoding.strip()} body cut short"
            except OverflowError as exc:
                return self.reject(rid, url, "too_large", str(exc))
            except ValueError as exc:
                # Servers sometimes send an identity body with a gzip header: keep it if it is HTML.
                if not _sniff_html(body):
                    return self.reject(rid, url, "bad_content_encoding", str(exc))
        if len(body) > self.max:
            return self.reject(rid, url, "too_large", f"{len(body)} bytes")
        if not body.strip():
            return self.reject(rid, url, "empty_payload", _emptiness(body, "body"))
        if not media and not _sniff_html(body):
            return self.reject(rid, url, "not_html", "no content type, not sniffed as HTML")
        return self.page(Record(
            id=rid, url=url, source=self.source, crawl_date=date,
            content_type=content_type, payload=body, kind="html", truncated=cut,
        ))

    def page(self, record: Record) -> Record | Reject:
        """A page that passed every other check, or, when it is known to be cut
        short and such pages are not kept, its ``truncated`` reject."""
        if record.truncated and not self.keep_cut:
            return self.reject(record.id, record.url, "truncated", f"page cut short: {record.truncated}")
        return record

    # -- WARC ---------------------------------------------------------------
    def resync(self, stream: _Stream) -> int:
        """Skips to the next line starting with ``WARC/``; returns bytes skipped."""
        skipped = 0
        while True:
            line = stream.readline()
            if not line:
                return skipped
            if _is_warc_header(line.lstrip(_RECORD_PADDING)):
                stream.unread(line)
                return skipped
            skipped += len(line)

    def stream_end(self, stream: _Stream) -> Iterator[Reject]:
        """At the end of a record stream: one ``truncated`` reject if it broke off."""
        if stream.error and not self.truncation_reported and not stream.read_failed:
            yield self.truncated(stream, self.offset_id(stream.pos), "", "stream ends between records")

    def warc(self, stream: _Stream) -> Iterator[Record | Reject]:
        while True:
            # Blank lines and NUL padding between records are not records.
            line = _next_nonblank(stream, _BETWEEN_RECORDS)
            if not line:
                yield from self.stream_end(stream)
                return
            offset = stream.pos - len(line)
            if not line.startswith(b"WARC/"):
                stream.unread(line)
                skipped = self.resync(stream)
                if stream.at_eof() and stream.error:
                    yield self.truncated(stream, self.offset_id(offset), "", f"{skipped} stray bytes at end")
                    return
                yield self.reject(self.offset_id(offset), "", "malformed_record", f"{skipped} stray bytes skipped")
                continue
            yield from self.warc_record(stream, offset)

    def warc_record(self, stream: _Stream, offset: int) -> Iterator[Record | Reject]:
        # Header block: lines up to the first blank line.
        block = stream.read_header_block()
        if block is None:
            if stream.exhausted:  # no blank line before the end of the input
                stream.skip(_MAX_HEADER_BYTES)
                yield self.truncated(stream, self.offset_id(offset), "", "EOF inside WARC header")
                return
            skipped = self.resync(stream)
            yield self.reject(self.offset_id(offset), "", "malformed_record",
                              f"unterminated WARC header ({skipped} bytes skipped)")
            return
        lines = block.split(b"\n")
        for k, line in enumerate(lines):
            if _is_warc_header(line + b"\n"):
                # A new record started before this header ended: header is garbage.
                stream.unread(b"\n".join(lines[k:]))
                yield self.reject(self.offset_id(offset), "", "malformed_record", "unterminated WARC header")
                return
        headers = _parse_header_lines(block)
        rtype = headers.get("warc-type", "").lower()
        url = headers.get("warc-target-uri", "").strip("<> ")
        date = headers.get("warc-date", "")
        rid_raw = headers.get("warc-record-id", "")
        rid = _clean_record_id(rid_raw) if rid_raw else ""
        reject_id = rid or self.offset_id(offset)
        try:
            length = int(headers["content-length"])
            if length < 0:
                raise ValueError
        except (KeyError, ValueError):
            skipped = self.resync(stream)
            yield self.reject(reject_id, url, "malformed_record",
                              f"missing or bad Content-Length ({skipped} bytes skipped)")
            return

        # Blocks above the payload limit are skipped without being buffered.
        wanted = rtype in ("response", "resource", "conversion")
        if length > self.max + _MAX_HEADER_BYTES:
            # A wrong Content-Length must not swallow the records after it.
            got, cut, lost = self.skip_oversized(stream, length, _is_warc_header, self.check_trailer)
            if cut:
                yield self.reject(reject_id, url, "truncated",
                                  f"{rtype or 'record'} cut short by the next WARC header {cut}")
                yield from self.lost_records(lost)
                return
            if got < length:
                yield self.truncated(stream, reject_id, url, f"{rtype or 'record'} cut short: {got} of {length} bytes")
                return
            stray = "" if self.check_trailer(stream) else f" ({self.resync(stream)} stray bytes after it)"
            if wanted:
                yield self.reject(reject_id, url, "too_large", f"{length} bytes{stray}")
            elif not rtype:
                yield self.reject(reject_id, url, "malformed_record", f"no WARC-Type{stray}")
            else:
                yield self.reject(reject_id, url, "not_response", f"{rtype}{stray}")
            return

        block = stream.read(length)
        problem = ""  # why the block does not end where Content-Length says
        if len(block) < length or not self.check_trailer(stream):
            # Record cut short: either the file ends, or the next record's header
            # appears inside this block (Content-Length too large), or stray bytes
            # follow it (Content-Length too small).
            m = _WARC_LINE.search(block + stream.peek(16), 1)
            if m is not None and m.start() < len(block):
                stream.unread(block[m.start() :].lstrip(b"\r\n"))
                problem = f"cut short by the next WARC header after {m.start()} of {length} bytes"
                reason = "truncated"
            elif len(block) < length:
                problem = f"cut short: {len(block)} of {length} bytes"
                reason = "truncated"
                self.truncation_reported = True
                if stream.error:
                    problem += f" ({stream.error})"
            elif _damaged_start_follows(stream, _WARC_DAMAGED_START):
                pass  # this record ended where it said; the record loop rejects the next one's bytes
            else:
                problem = f"Content-Length mismatch ({self.resync(stream)} stray bytes after it)"
                reason = "malformed_record"
        if problem and not wanted:
            # Damage is reported as damage whatever the type (a truncated file
            # shows in the funnel even when it is cut inside a request record).
            yield self.reject(reject_id, url, reason, f"{rtype or 'no WARC-Type'} {problem}")
            return
        if not rtype:  # WARC-Type is mandatory (ISO 28500): a damaged header
            yield self.reject(reject_id, url, "malformed_record", "no WARC-Type")
            return
        if not wanted:
            yield self.reject(reject_id, url, "not_response", rtype)
            return
        if problem:
            yield self.reject(reject_id, url, reason, f"{rtype} {problem}")
            return
        out_id = rid or _stable_id(self.source, offset)
        warc_ct = headers.get("content-type", "")
        # The crawler's own word that it stored only part of the payload (ISO 28500:
        # length, time, disconnect, unspecified; Common Crawl cuts at 1 MiB).
        cut = f"WARC-Truncated: {headers['warc-truncated']}" if headers.get("warc-truncated") else ""
        out: Record | Reject
        if rtype == "conversion":
            if not block.strip():
                out = self.reject(out_id, url, "empty_payload", _emptiness(block, "conversion"))
            elif len(block) > self.max:
                out = self.reject(out_id, url, "too_large", f"{len(block)} bytes")
            else:
                out = self.page(Record(id=out_id, url=url, source=self.source, crawl_date=date,
                                       content_type=warc_ct or "text/plain", payload=block, kind="text",
                                       truncated=cut))
        elif rtype == "response" and (
            "application/http" in warc_ct.lower() or (not warc_ct and block.startswith(b"HTTP/"))
        ):
            out = self.http_document(out_id, url, date, block, "html", cut)
        else:
            # resource records, and responses that are not HTTP (dns:, ftp:, ...):
            # the block is the document and the WARC Content-Type describes it.
            out = self.document(out_id, url, date, warc_ct, block, {}, "html", cut)
        if isinstance(out, Reject) and not rid:
            out = out._replace(id=reject_id)
        yield out

    def gap_rejects(self, stream: _Stream) -> Iterator[Reject]:
        """One counted reject per corrupt gzip member that gave no byte (its record
        is nowhere else); a member cut after some bytes shows up as a record cut
        short by the next one, which the record parser reports."""
        while stream.gaps:
            offset, gap = stream.gaps.pop(0)
            for k in range(gap.lost):
                yield self.reject(f"{self.source}@{offset}:corrupt-gzip-{k}", "", "truncated",
                                  f"{gap.error}; {gap.skipped} compressed bytes skipped to the next gzip member")

    def skip_oversized(self, stream: _Stream, length: int, is_header: Callable[[bytes], bool],
                       record_ends: Callable[[_Stream], bool]) -> tuple[int, str, list[int]]:
        """Skips a block above the payload limit without buffering it.

        While skipping it keeps a bounded tail from the record headers inside
        (:meth:`_Stream.skip_watching`). If the block then does not end where its
        length says (the input ends first, or ``record_ends`` fails), the length
        was wrong: the tail is pushed back to be read. Returns ``(skipped, cut,
        lost)``: ``cut`` describes where the block was cut ('' when its length
        held), ``lost`` the offsets of records too far back to keep.
        """
        start = stream.pos
        got, tail, lost = stream.skip_watching(length, self.max + _MAX_HEADER_BYTES, is_header)
        if (tail is not None or lost) and (got < length or not record_ends(stream)):
            if tail is not None:
                stream.unread(tail)
            return got, f"after {(lost[0] if lost else stream.pos) - start} of {length} bytes", lost
        return got, "", []

    def lost_records(self, offsets: list[int]) -> Iterator[Reject]:
        """One counted reject per record that started inside a wrong length and
        could not be kept in memory to be read (see :meth:`_Stream.skip_watching`)."""
        for off in offsets:
            yield self.reject(self.offset_id(off), "", "truncated",
                              "record inside the previous record's wrong length, past what is kept in memory")

    def check_trailer(self, stream: _Stream) -> bool:
        """Consumes the blank lines after a block if a header or EOF follows them.

        Returns False (consuming nothing) when something else follows.
        """
        consumed, size = [], 0
        while True:
            line = stream.readline(_SNIFF_BYTES)
            if not line:
                return True
            if line.strip(_BETWEEN_RECORDS) == b"":  # blank, as the record loop counts blank
                consumed.append(line)
                size += len(line)
                if size > _MAX_HEADER_BYTES:
                    # A long run of blank lines: the record ended where it said;
                    # the record loop skips the rest of the run (bounded memory).
                    return True
                continue
            stream.unread(b"".join(consumed) + line)
            # Padding before the next header is skipped by the record loop, as between
            # records. A file cut inside the next record's first bytes ("WAR" then EOF):
            # this record ended where it said; the cut one is reported as truncated.
            head = line.lstrip(_RECORD_PADDING)
            return head.startswith(b"WARC/") or (not head.endswith(b"\n") and b"WARC/".startswith(head))

    # -- ARC ------------------------------------------------------------------
    def arc(self, stream: _Stream) -> Iterator[Record | Reject]:
        """ARC v1/v2: ``URL IP date mime [...] length`` line, then ``length`` bytes."""
        while True:
            line = _next_nonblank(stream, _BETWEEN_RECORDS)  # NUL padding between/after records
            if not line:
                yield from self.stream_end(stream)
                return
            offset = stream.pos - len(line)
            fields = line.strip().decode("utf-8", "replace").split(" ")
            url = fields[0] if fields else ""
            if len(fields) < 5 or not (fields[-1].isascii() and fields[-1].isdigit() and len(fields[-1]) <= 15):
                # Without a valid length the record end is unknown: skip to the next
                # line that looks like an ARC header (URL + IP + 14-digit date).
                skipped = self.arc_resync(stream)
                yield self.reject(self.offset_id(offset), url, "malformed_record",
                                  f"bad ARC header {line[:100]!r} ({skipped} bytes skipped)")
                continue
            length = int(fields[-1])
            digits = re.sub(r"\D", "", fields[2])[:14]
            date = (
                f"{digits[0:4]}-{digits[4:6]}-{digits[6:8]}T{digits[8:10]}:{digits[10:12]}:{digits[12:14]}Z"
                if len(digits) == 14 else ""
            )
            mime = fields[3]
            rid = _stable_id(self.source, offset)
            if length > self.max + _MAX_HEADER_BYTES:
                got, cut, lost = self.skip_oversized(stream, length, _is_arc_header, _arc_record_ends)
                if cut:
                    yield self.reject(self.offset_id(offset), url, "truncated",
                                      f"record cut short by the next ARC header {cut}")
                    yield from self.lost_records(lost)
                    continue
                if got < length:
                    yield self.truncated(stream, self.offset_id(offset), url, f"record cut short: {got} of {length}")
                    return
                yield self.reject(self.offset_id(offset), url, "too_large", f"{length} bytes")
                continue
            block = stream.read(length)
            # (An empty block ends where its header line did: at a line start.)
            if len(block) < length or not _arc_record_ends(stream, block[-1:] or b"\n"):
                # A length longer than the record swallows the records after it:
                # find the next ARC header starting inside the block (its line may
                # end past the block) and read on from there.
                m = _ARC_HEADER_IN_BLOCK.search(block + stream.peek(_MAX_HEADER_BYTES))
                if m is not None and m.start(1) >= len(block):
                    m = None
                if m is not None:
                    stream.unread(block[m.start(1):])
                    yield self.reject(self.offset_id(offset), url, "truncated",
                                      f"record cut short by the next ARC header after {m.start(1)} of {length} bytes")
                    continue
                if len(block) < length:
                    yield self.truncated(stream, self.offset_id(offset), url,
                                         f"record cut short: {len(block)} of {length}")
                    return
                if not _damaged_start_follows(stream, _ARC_DAMAGED_HEADER, b"\n"):
                    yield self.reject(self.offset_id(offset), url, "malformed_record",
                                      f"length mismatch ({self.arc_resync(stream)} stray bytes after it)")
                    continue
                # else: this record ended where it said; the record loop rejects the next header
            if url.startswith("filedesc:"):  # the file's version block, not a page
                yield self.reject(self.offset_id(offset), url, "not_response", "filedesc")
                continue
            if block.startswith(b"HTTP/"):
                out = self.http_document(rid, url, date, block, "html")
            elif url.startswith(("http:", "https:")) and not block.strip():
                out = self.reject(rid, url, "empty_payload", _emptiness(block, "record"))
            else:
                out = self.document(rid, url, date, mime if mime != "-" else "", block, {})
            if isinstance(out, Reject):
                out = out._replace(id=self.offset_id(offset))
            yield out

    def arc_resync(self, stream: _Stream) -> int:
        skipped = 0
        while True:
            line = stream.readline()
            if not line:
                return skipped
            if _ARC_HEADER_START.match(line):
                stream.unread(line)
                return skipped
            skipped += len(line)

    # -- JSONL / HTML -----------------------------------------------------------
    def jsonl(self, stream: _Stream) -> Iterator[Record | Reject]:
        # A JSON-escaped line can be several times the payload size; beyond this
        # bound the line is skipped without being buffered.
        line_limit = 6 * self.max + _MAX_HEADER_BYTES
        first = True
        while True:
            stream.skip_run(b"\r\n")  # empty lines, a buffer at a time
            offset = stream.pos
            line = stream.readline(line_limit)
            if not line:
                if stream.error and not self.truncation_reported and not stream.read_failed:
                    yield self.truncated(stream, self.offset_id(offset), "", "stream ends between lines")
                return
            if not line.endswith(b"\n") and len(line) >= line_limit:
                while line and not line.endswith(b"\n"):
                    line = stream.readline(_CHUNK)
                yield self.reject(self.offset_id(offset), "", "too_large", "JSON line too long")
                continue
            if not line.strip():
                continue
            if not line.endswith(b"\n") and stream.error:
                yield self.truncated(stream, self.offset_id(offset), "", "last line cut short")
                return
            if first:
                first = False
                # Only a file not named as JSON Lines (.json, or no telling name) is
                # judged by its first line: in a .jsonl file a bad first line is one
                # bad_json reject like any other line, not the loss of the file.
                if not _basename(self.source).lower().endswith((".jsonl", ".ndjson")) \
                        and not _is_json_object(line):
                    # A .json document (or anything else) that is not JSON Lines is one
                    # unreadable file, not one bad_json reject per line of it.
                    yield self.reject(self.offset_id(offset), "", "unreadable_file",
                                      "not JSON Lines: the first line is not a JSON object")
                    return
            yield self.json_line(line, offset)

    def json_line(self, line: bytes, offset: int) -> Record | Reject:
        rid = self.offset_id(offset)
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:  # RecursionError: "[[[[..." nested too deep
            return self.reject(rid, "", "bad_json", f"{type(exc).__name__}: {exc}"[:200])
        if not isinstance(obj, dict):
            return self.reject(rid, "", "bad_json", f"not an object: {type(obj).__name__}")
        # Strings from JSON may hold escaped lone surrogates ("\ud800"): made safe
        # here, since they travel through coders and into Arrow columns.
        url = obj.get("url")
        url = utf8_safe(url) if isinstance(url, str) else ""
        # An empty or blank id is no id (two such lines would share one): the offset id.
        own_id = obj.get("id") is not None and str(obj["id"]).strip() != ""
        if own_id:
            rid = utf8_safe(str(obj["id"]))
        has_html = isinstance(obj.get("html"), str)
        has_text = isinstance(obj.get("text"), str)
        if not (has_html or has_text):  # url is optional: many text corpora have none
            return self.reject(rid, url, "bad_json", "needs a string 'html' or 'text'")
        value = obj["html"] if has_html else obj["text"]
        payload = value.encode("utf-8", "surrogatepass")
        if len(payload) > self.max:
            return self.reject(rid, url, "too_large", f"{len(payload)} bytes")
        if not value.strip():
            return self.reject(rid, url, "empty_payload", _emptiness(payload, "'html'" if has_html else "'text'"))
        date = obj.get("date")
        return Record(
            id=rid if own_id else _stable_id(self.source, offset),
            url=url, source=self.source, crawl_date=utf8_safe(str(date)) if date is not None else "",
            content_type="text/html; charset=utf-8" if has_html else "text/plain; charset=utf-8",
            payload=payload, kind="html" if has_html else "text",
        )

    def html_file(self, stream: _Stream) -> Iterator[Record | Reject]:
        body = stream.read(self.max + 1)
        rid = _stable_id(self.source, 0)
        if len(body) > self.max:
            yield self.reject(rid, "", "too_large", f"> {self.max} bytes")
            return
        if stream.error:
            yield self.truncated(stream, rid, "", "HTML file cut short")
            return
        if not body.strip():
            yield self.reject(rid, "", "empty_payload", _emptiness(body, "file"))
            return
        yield Record(id=rid, url="", source=self.source, crawl_date="",
                     content_type="text/html", payload=body, kind="html")



# An ARC record header line: URL (http://..., or dns:host as Heritrix writes), IP,
# 14-digit date, ..., length (v1: 5 fields, v2: 10).
# _ARC_HEADER_START: its start (URL, IP, date), whatever its length field says.
_ARC_AFTER_SCHEME = rb"\S* \S+ \d{14}"  # the rest of the URL, the IP, the date
_ARC_LINE_END = rb"\S*(?: \S+)+ \d+\r?\n"  # the other fields, the length last
_ARC_HEADER_START = re.compile(rb"[A-Za-z][A-Za-z0-9+.\-]*:" + _ARC_AFTER_SCHEME)
_ARC_HEADER = re.compile(_ARC_HEADER_START.pattern + _ARC_LINE_END)
_ARC_HEADER_IN_BLOCK = re.compile(rb"\n(" + _ARC_HEADER.pattern + rb")")
# A whole header line with a scheme crawlers record: what may follow a block directly.
_ARC_HEADER_GLUED = re.compile(rb"(?:https?|ftp|dns|filedesc):" + _ARC_AFTER_SCHEME + _ARC_LINE_END)


def _is_arc_header(line: bytes) -> bool:
    return _ARC_HEADER.fullmatch(line) is not None


# The start of a record whose first line is damaged: a version line with a flipped
# byte ("WBRC/1.0"), or a WARC header line whose version line was lost; an ARC
# header line with a bad date, a missing field or a space in its URL.
_WARC_DAMAGED_START = re.compile(rb"(?:[!-~]{3,6}/\d\.\d{1,2}|(?i:warc-[a-z-]{2,30}):[^\r\n]*)\r?\n")
_ARC_DAMAGED_HEADER = re.compile(rb"[A-Za-z][A-Za-z0-9+.\-]*:\S*(?: [^\r\n]*)? \d{1,15}\r?\n")


def _damaged_start_follows(stream: "_Stream", pattern: re.Pattern, trailer: bytes = b"\r\n\r\n") -> bool:
    """Whether a block that has its full length is followed by its trailer and then
    by a damaged record start (:data:`_WARC_DAMAGED_START`, :data:`_ARC_DAMAGED_HEADER`).

    The block then ended where its length said: the damage is the next record's,
    whose bytes the record loop rejects on their own (one ``malformed_record``).
    Before, the intact record was rejected as a length mismatch and the damaged
    one was swallowed with it, uncounted. Consumes the trailer when true.
    """
    ahead = stream.peek(len(trailer) + _SNIFF_BYTES)
    lf_only = trailer.replace(b"\r", b"")
    for t in (trailer, lf_only):
        if ahead.startswith(t):
            rest = ahead[len(t):].lstrip(b"\r\n")
            line_end = rest.find(b"\n")
            if line_end >= 0 and pattern.fullmatch(rest[: line_end + 1]):
                stream.read(len(ahead) - len(rest))
                return True
    return False


def _arc_record_ends(stream: "_Stream", tail: bytes = b"\n") -> bool:
    """Whether what follows a block is blank lines and then EOF or the start of an
    ARC header line (consumes nothing). A header with a bad length field still
    ends the record before it; the record loop rejects that header.

    The header must start a line: after a line break in the padding, or right
    after a block whose last byte (``tail``) is one. A length two to four bytes
    too long ate the line break and the URL's first letters, and what was left
    (``ttp://b.jp/ ...``) still looked like a header's start: two broken records
    passed as clean ones.
    """
    raw = stream.peek(_SNIFF_BYTES * 4)
    ahead = raw.lstrip(_BETWEEN_RECORDS)
    if not ahead:
        return True
    if tail.endswith(b"\n") or b"\n" in raw[: len(raw) - len(ahead)]:
        return _ARC_HEADER_START.match(ahead) is not None
    # Not at a line start (a writer that put no line break after the block): only a
    # whole header line with a URL scheme crawlers record, which a remnant is not.
    return _ARC_HEADER_GLUED.match(ahead) is not None


def _next_nonblank(stream, chars: bytes | None = None) -> bytes:
    """The next line that is not only ``chars`` (whitespace by default); b"" at the end.

    Runs of those bytes are skipped a buffer at a time, not a line at a time
    (megabytes of newlines between two records took a Python loop per line).
    """
    stream.skip_run(chars if chars is not None else b" \t\r\n\x0b\x0c")
    line = stream.readline()
    while line and not line.strip(chars):
        line = stream.readline()
    return line


def _is_json_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return False


_FORMAT_BY_NAME = {".warc": "warc", ".wet": "warc", ".arc": "arc", ".jsonl": "jsonl", ".json": "jsonl",
                   ".ndjson": "jsonl", ".html": "html", ".htm": "html", ".xhtml": "html"}
# How far a file named as a crawl file but starting with JSON is searched for a record.
_NAMED_CRAWL_SNIFF_BYTES = 1 << 20


def _format_by_name(source: str) -> str:
    """The format a file's name (compression suffix removed) says, or ""."""
    name = _basename(source).lower()
    return next((fmt for suffix, fmt in _FORMAT_BY_NAME.items() if name.endswith(suffix)), "")


def _detect(head: bytes, source: str) -> str:
    """Returns ``warc``, ``arc``, ``jsonl``, ``html`` or ``""`` (unknown)."""
    stripped = head.lstrip(b"\xef\xbb\xbf\x00\r\n\t ")
    if stripped.startswith(b"WARC/"):
        return "warc"
    if stripped.startswith(b"filedesc://") or re.match(rb"^\S+://\S* \S+ \d{14}\S* \S+ ", stripped):
        return "arc"
    # A first line that is a whole JSON object makes JSON Lines whatever the name
    # (JSON Lines named .warc would otherwise be resynced to nothing), unless a WARC
    # version line follows: then it is a WARC file cut inside a JSON payload
    # (read_records searches 1 MB of a file named as a crawl file for one).
    if stripped.startswith(b"{") and not _WARC_LINE.search(head):
        end = stripped.find(b"\n")
        if end > 0 and _is_json_object(stripped[:end]):
            return "jsonl"
    # A crawl file that does not start with its first record (junk, or cut in the
    # middle of one): its name, or a version line further in, says what it is, so
    # the reader resyncs to the records instead of reading the file as one page.
    fmt = _format_by_name(source)
    if fmt:
        return fmt
    if stripped.lower().startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "html"  # a page (that may quote a WARC record), not a cut WARC file
    if _WARC_LINE.search(head):
        return "warc"
    if stripped.startswith(b"{"):
        return "jsonl"
    if _sniff_html(stripped):
        return "html"
    return ""


def read_records(
    fileobj: BinaryIO, source: str, *, max_payload_bytes: int = 10_000_000, keep_truncated_pages: bool = False
) -> Iterator[Record | Reject]:
    """Yields one :class:`Record` or read-stage :class:`Reject` per input record.

    Args:
        fileobj: Binary file object positioned at the start of the file. It is
            read sequentially (never seeked); gzip is detected by magic bytes
            (in a file named ``.gz``, also by a member header soon after
            damaged first bytes).
        source: Path or URI of the file, copied into every output and used for
            offset-based ids and as a format hint (``.jsonl``, ``.html``).
        max_payload_bytes: Largest payload kept, in bytes after HTTP decoding.
            Larger records are rejected as ``too_large`` and skipped in chunks.
        keep_truncated_pages: keep a page known to be incomplete (WARC-Truncated,
            a body short of its Content-Length, a compressed body cut short) as a
            Record with ``truncated`` set, instead of a ``truncated`` reject.

    Yields:
        ``Record(kind="html")`` for HTML responses/resources/JSONL ``html``/HTML
        files, ``Record(kind="text")`` for WET conversions and JSONL ``text``,
        and ``Reject(stage="read", filter="read", reason=<READ_REASONS>)`` for
        everything else. Never raises.
    """
    reader = _Reader(source, max_payload_bytes, keep_truncated_pages)
    produced = False
    try:
        first = fileobj.read(_SNIFF_BYTES * 4)
        if first[:2] == b"\x1f\x8b" or _gzip_after_damage(first, source):
            stream = _Stream(_gzip_chunks(first, fileobj))
        else:
            stream = _Stream(_chain(first, fileobj))
        head = stream.peek(_SNIFF_BYTES * 4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and \
                _detect(head.decode("utf-16", "replace").encode("utf-8"), source) == "jsonl":
            # JSON Lines saved as UTF-16 (Windows tools do): read as UTF-8, or every
            # 0x0A byte inside a character would end a line.
            codec = "utf-16-le" if head.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"
            stream.read(2)  # the byte-order mark
            stream = stream.as_utf8(codec)
            head = stream.peek(_SNIFF_BYTES * 4)
        fmt, named = _detect(head, source), _format_by_name(source)
        if fmt == "jsonl" and named in ("warc", "arc"):
            # JSON first in a file named as a crawl file: JSON Lines, unless a record
            # follows further in (a WARC cut inside a JSON payload of any length).
            wide = stream.peek(_NAMED_CRAWL_SNIFF_BYTES)
            if _WARC_LINE.search(wide):
                fmt = "warc"
            elif named == "arc" and _ARC_HEADER_IN_BLOCK.search(wide):
                fmt = "arc"
        if not fmt:
            detail = stream.error or f"unknown format, starts with {stream.peek(40)!r}"
            yield reader.reject(reader.offset_id(0), "", "unreadable_file", detail)
            return
        parse: Callable[[_Stream], Iterator[Record | Reject]] = getattr(
            reader, {"warc": "warc", "arc": "arc", "jsonl": "jsonl", "html": "html_file"}[fmt]
        )
        for out in parse(stream):
            produced = True
            yield out
            yield from reader.gap_rejects(stream)
        for out in reader.gap_rejects(stream):
            produced = True
            yield out
        if stream.read_failed:
            # The records after this point were never seen: one counted reject
            # says so (their number is unknown), named by where reading stopped.
            produced = True
            yield reader.reject(reader.offset_id(stream.pos), "", "read_error",
                                f"{stream.read_failed}; the rest of the file was not read")
        if not produced:
            # An empty JSON Lines file (or one of blank lines) is still an input the
            # run was given: one counted reject, as an empty WARC or HTML file gets.
            yield reader.reject(reader.offset_id(0), "", "unreadable_file",
                                stream.error or "no records in the file")
    except Exception as exc:  # noqa: BLE001 - the reader must never raise
        detail = f"{type(exc).__name__}: {exc}"
        reason = "truncated" if produced else "unreadable_file"
        yield reader.reject(reader.offset_id(0), "", reason, detail[:500])


def _chain(first: bytes, fileobj: BinaryIO) -> Iterator[bytes]:
    if first:
        yield first
    yield from _raw_chunks(fileobj)
