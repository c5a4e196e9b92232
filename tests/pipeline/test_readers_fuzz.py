"""A seeded mutation fuzz of the readers: damaged crawl files in every format.

The promise under test: whatever the bytes, ``read_records`` never raises, ends,
gives every output a read-stage reason from ``READ_REASONS`` (or a Record), gives
the same outputs for the same bytes, and gives at least one output for a non-empty
file. A longer run of the same idea (27,000 cases, a child process per case to
catch hangs) found the four reader defects whose tests end test_readers.py.
"""

from __future__ import annotations

import gzip
import io
import json
import random
import signal

import pytest

from pipeline.readers import READ_REASONS, read_records
from schemas.records import Record, Reject
from tests.pipeline.test_readers import HTML, http, warc_record

CASES = 150  # per seed file; well under a second in all


def _seeds() -> dict[str, bytes]:
    warc = b"".join(warc_record(block=http(HTML + f"<p>{i}</p>".encode()), rid=f"<urn:uuid:{i}>",
                                url=f"http://e.jp/{i}") for i in range(6))
    warc += warc_record("request", b"GET / HTTP/1.1\r\n\r\n", rid="<urn:uuid:req>")
    page = http(HTML)
    arc = b"filedesc://x.arc 0.0.0.0 20240501000000 text/plain 10\n1 0 test\n\n\n" + b"".join(
        b"http://e.jp/%d 192.0.2.1 2024050109000%d text/html %d\n" % (i, i, len(page)) + page + b"\n"
        for i in range(5))
    jsonl = "".join(json.dumps({"id": f"j{i}", "url": f"http://e.jp/{i}", "text": f"本文{i}です。"},
                               ensure_ascii=False) + "\n" for i in range(8)).encode()
    return {
        "x.warc": warc,
        "x.warc.gz": b"".join(gzip.compress(warc_record(block=http(HTML), rid=f"<urn:uuid:g{i}>"), mtime=0)
                              for i in range(5)),
        "x.arc": arc,
        "x.jsonl": jsonl,
        "x.jsonl.gz": gzip.compress(jsonl, mtime=0),
        # A WARC stored decompressed under its .gz name, its first body gzip-encoded.
        "plain.warc.gz": warc_record(block=http(gzip.compress(HTML, mtime=0), headers="Content-Encoding: gzip\r\n"),
                                     rid="<urn:uuid:z>") + warc,
    }


def _mutate(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not data:
            break
        at = rng.randrange(len(data))
        kind = rng.randrange(7)
        if kind == 0:  # flip a byte
            data[at] ^= 1 << rng.randrange(8)
        elif kind == 1:  # cut the file
            del data[at:]
        elif kind == 2:  # insert junk (NULs, a line break, random bytes)
            data[at:at] = rng.choice([b"\x00" * rng.randint(1, 8), b"\r\n", bytes(rng.randrange(256)
                                                                             for _ in range(rng.randint(1, 40)))])
        elif kind == 3:  # delete a slice
            del data[at:at + rng.randint(1, 200)]
        elif kind == 4:  # repeat a slice
            end = min(len(data), at + rng.randint(1, 300))
            data[end:end] = data[at:end]
        elif kind == 5:  # change a digit (lengths, dates, status codes)
            digits = [i for i, c in enumerate(data) if 48 <= c <= 57]
            if digits:
                data[rng.choice(digits)] = 48 + rng.randrange(10)
        else:  # a huge Content-Length or ARC length
            data[at:at] = b"99999999999"
    return bytes(data)


def _read(data: bytes, name: str) -> list:
    def too_long(*_):
        raise TimeoutError(f"read_records on {len(data)} bytes of {name} did not end within 10 s")

    old = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(10)
    try:
        return list(read_records(io.BytesIO(data), f"s3://b/{name}", max_payload_bytes=200_000))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("name", sorted(_seeds()))
def test_damaged_files_never_raise_hang_or_lose_track(name):
    seed = _seeds()[name]
    rng = random.Random(f"furui-fuzz-{name}")
    reasons = set(READ_REASONS)
    for case in range(CASES):
        data = _mutate(seed, rng)
        outs = _read(data, name)
        assert outs or not data, (case, data[:200])
        for o in outs:
            assert isinstance(o, (Record, Reject)), (case, o)
            assert isinstance(o.id, str) and o.id, (case, o)
            if isinstance(o, Reject):
                assert (o.stage, o.filter) == ("read", "read") and o.reason in reasons and o.detail, (case, o)
            for value in (o.id, o.url, o.source):
                value.encode("utf-8")  # no lone surrogates: they would fail Beam's coders and Arrow
        assert _read(data, name) == outs, case  # the same bytes, the same outputs
        if not name.endswith(".gz") and len(data) > 4:
            # The same bytes gzipped as a few members (as crawlers write WARCs): the
            # same records and rejects at the same offsets.
            cuts = sorted(rng.sample(range(1, len(data)), 3))
            members = b"".join(gzip.compress(data[a:b], mtime=0) for a, b in zip([0, *cuts], [*cuts, len(data)]))
            assert _outline(_read(members, name + ".gz")) == _outline(outs), case


def _outline(outs: list) -> list:
    return [(type(o).__name__, o.id.replace(".gz@", "@"), getattr(o, "reason", ""), getattr(o, "payload", b""))
            for o in outs]
