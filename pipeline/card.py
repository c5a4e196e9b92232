"""The dataset card of a run: ``OUTPUT_DIR/README.md`` plus ``OUTPUT_DIR/plots/*.svg``.

``furui card OUTPUT_DIR`` (also called at the end of ``furui run``) writes a
Hugging Face dataset card: YAML front matter (language, license, size bucket,
``configs`` pointing at ``documents/*.parquet``) followed by the sources, the
pipeline version and config, the per-stage and per-reason funnel, the filter
thresholds, the dedup parameters, the PII policy and counts, and the known
limitations.

The card is built only from ``stats.json``, ``config.toml`` and the Parquet
footers (row counts, file metadata), never from document text, so it cannot
leak PII from the corpus. Two more leaks are closed here:

* config values under a secret-looking key (``*key*``, ``*secret*``,
  ``*token*``, ``*password*``, ``*credential*``...) are replaced by
  ``<redacted>``;
* credentials embedded in URLs (``s3://AKIA...:secret@bucket/x``,
  ``https://user:pass@host/x``, presigned query strings) are stripped from input
  paths and config values.

Plots are small standalone SVG files built as strings (no plotting library, so
no import cost at the end of a run): every number has a fixed format and there
are no timestamps or generated ids, so the same stats give byte-identical files;
all text is XML-escaped (filter names come from the config).
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import logging
import math
import os
import re
import sys
import tomllib
import unicodedata
from typing import Any, Iterable, Mapping

log = logging.getLogger(__name__)

REDACTED = "<redacted>"
CARD_NAME = "README.md"
PLOTS_DIR = "plots"
# Hosts listed on the card (stats.json holds pipeline.report.TOP_HOSTS).
CARD_TOP_HOSTS = 20
MAX_LISTED_INPUTS = 20

# Parts of a key name that mark its value as a secret. Matched against whole
# name segments (split on ``_``, ``-``, ``.`` and camelCase) so that
# ``tokenize`` or ``min_tokens`` are not mistaken for ``token``.
_SECRET_SEGMENTS = frozenset(
    {
        "key",
        "keys",
        "apikey",
        "secret",
        "secrets",
        "token",
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "credential",
        "credentials",
        "auth",
        "authorization",
        "signature",
        "sig",
        "cookie",
        "private",
    }
)
# Access key ids have a fixed shape; redact them wherever they appear.
_ACCESS_KEY_RE = re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{12,}\b")
# A URL inside any string: its scheme, then printable ASCII up to whitespace, a quote
# or an angle bracket. URLs are ASCII: Japanese text right after one ends it
# ("https://example.jp/crawlから取得") instead of being read, and stripped, as its path.
_URL_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://)([!#-&(-;=?-~]*)")

# Hugging Face ``size_categories`` buckets, keyed by their upper bound.
_SIZE_BUCKETS = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
    (10_000_000_000, "1B<n<10B"),
    (100_000_000_000, "10B<n<100B"),
    (1_000_000_000_000, "100B<n<1T"),
)


# --------------------------------------------------------------------------- content types

#: Content type of each kind of output file on object storage (S3 and GCS serve
#: it to browsers and dataset viewers). The writers of ``furui run``, the card
#: and ``furui publish`` all use it.
CONTENT_TYPES = {
    ".parquet": "application/vnd.apache.parquet",
    ".json": "application/json",
    ".md": "text/markdown; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".toml": "application/toml",
}


def content_type(path: str) -> str:
    """The content type of an output file, from its extension.

    >>> content_type("out/README.md"), content_type("documents/documents-00000-of-00001.parquet")
    ('text/markdown; charset=utf-8', 'application/vnd.apache.parquet')
    >>> content_type("_SUCCESS")
    'application/octet-stream'
    """
    return CONTENT_TYPES.get(os.path.splitext(path)[1].lower(), "application/octet-stream")


# --------------------------------------------------------------------------- scrubbing


def is_secret_key(name: str) -> bool:
    """Whether a config key name looks like it holds a secret.

    >>> [is_secret_key(k) for k in ("aws_secret_access_key", "apiKey", "tokenize", "min_tokens")]
    [True, True, False, False]
    """
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name))
    segments = {s.lower() for s in re.split(r"[_\-.\s]+", spaced) if s}
    return bool(segments & _SECRET_SEGMENTS) or str(name).lower() in _SECRET_SEGMENTS


def strip_userinfo(value: str) -> str:
    """Removes credentials embedded in URLs anywhere in a string.

    In every URL (``scheme://`` and the printable ASCII after it), strips
    ``user:password@`` after the scheme and redacts the query string when it
    carries a signature or token (presigned URLs); AWS access key ids are
    redacted anywhere. Over-stripping is preferred to leaking: AWS secret keys
    may contain ``/``, so everything up to the first ``@`` goes whenever a ``:``
    precedes it.

    >>> strip_userinfo("s3://AKIAABCDEFGHIJKLMNOP:ab/cd+ef@bucket/crawl/x.warc.gz")
    's3://bucket/crawl/x.warc.gz'
    >>> strip_userinfo("https://user:pass@example.com/a.warc")
    'https://example.com/a.warc'
    >>> strip_userinfo("Mirror: https://alice:hunter2@data.example.com/crawl (daily)")
    'Mirror: https://data.example.com/crawl (daily)'
    >>> strip_userinfo("/data/crawl/a@b.warc.gz")
    '/data/crawl/a@b.warc.gz'
    >>> strip_userinfo("データはhttps://example.jp/crawlから取得。問い合わせ:dataset@example.jp")
    'データはhttps://example.jp/crawlから取得。問い合わせ:dataset@example.jp'
    """
    text = _URL_RE.sub(lambda m: _strip_url(m.group(1), m.group(2)), str(value))
    return _ACCESS_KEY_RE.sub(REDACTED, text)


def url_has_credentials(url: str) -> bool:
    """Whether a ``scheme://`` URL carries a secret: ``user[:password]@`` in its
    authority, or anything :func:`strip_userinfo` would remove (a presigned query, a key id).

    >>> url_has_credentials("http://minio:pw@127.0.0.1:9000"), url_has_credentials("http://127.0.0.1:9000/bucket")
    (True, False)
    """
    authority = url.split("://", 1)[-1].split("/", 1)[0]
    return "@" in authority or strip_userinfo(url) != url


def embeds_credentials(url: str) -> bool:
    """Whether a path or pattern given to read from (``scheme://...``) carries a secret:
    ``@`` or ``:`` in its authority (bucket names hold neither; an AWS secret may
    hold ``/``, which ends the authority at ``KEY:part``), or a presigned query.
    Unlike :func:`url_has_credentials` (for text that is shown), an ``@`` in a key
    is a name, not a secret.

    >>> embeds_credentials("s3://KEY:SE/CRET@bucket/x"), embeds_credentials("https://h/x?X-Amz-Signature=ab")
    (True, True)
    >>> embeds_credentials("s3://bucket/2024-05-01T12:00:00Z/page@2x.warc.gz"), embeds_credentials("s3://b/?-token.gz")
    (False, False)
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return False
    authority = rest.split("/", 1)[0]
    # Only an HTTP URL has a query (and can be presigned); in s3:// and gs:// paths "?"
    # is a glob character (s3://b/shard-?-token.warc.gz).
    presigned = scheme.lower() in ("http", "https") and _secret_query(rest)
    return "@" in authority or ":" in authority or presigned


def _secret_query(rest: str) -> bool:
    """Whether the query of a URL (``rest``: after the scheme) carries a signature or token."""
    query_at = rest.find("?")
    if query_at == -1:
        return False
    names = [p.split("=", 1)[0] for p in re.split(r"[&;]", rest[query_at + 1 :])]
    return any(is_secret_key(n) or "credential" in n.lower() or "signature" in n.lower() for n in names)


def _strip_url(scheme: str, rest: str) -> str:
    at = rest.find("@")
    slash = rest.find("/")
    if at != -1 and (slash == -1 or at < slash or ":" in rest[:at]):
        rest = rest[at + 1 :]
    if _secret_query(rest):
        rest = rest[: rest.find("?")] + "?" + REDACTED
    return scheme + rest


def scrub(value: Any, key: str = "") -> Any:
    """Returns a copy of a parsed config (or any JSON-like value) without secrets.

    Values under a secret-looking key are replaced by ``<redacted>`` (empty strings
    are kept, they reveal nothing and show that the key is unset); every string is
    passed through :func:`strip_userinfo`.

    >>> scrub({"io": {"endpoint": "https://u:p@h/x", "secret_key": "abc", "token": ""}})
    {'io': {'endpoint': 'https://h/x', 'secret_key': '<redacted>', 'token': ''}}
    """
    if key and is_secret_key(key) and value not in ("", None, [], {}):
        return REDACTED
    if isinstance(value, Mapping):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return strip_userinfo(value)
    return value


def secret_paths(value: Any, path: str = "") -> list[str]:
    """Dotted paths of the values that :func:`scrub` would change (never the values)."""
    found: list[str] = []
    if isinstance(value, Mapping):
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            if is_secret_key(str(k)) and v not in ("", None, [], {}):
                found.append(sub)
            else:
                found.extend(secret_paths(v, sub))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found.extend(secret_paths(v, f"{path}[{i}]"))
    elif isinstance(value, str) and strip_userinfo(value) != value:
        found.append(path)
    return found


# --------------------------------------------------------------------------- TOML


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_\-]+", key) else json.dumps(key, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return json.dumps(str(value), ensure_ascii=False)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def dump_toml(data: Mapping[str, Any], _prefix: str = "") -> str:
    """Serialises a parsed TOML document (``tomllib`` output) back to TOML.

    Comments and formatting of the original are lost; used only when the verbatim
    config cannot be shown because values had to be redacted.
    """
    lines: list[str] = []
    tables = []
    for k, v in data.items():
        if isinstance(v, Mapping) or _is_table_array(v):
            tables.append((k, v))
        else:
            lines.append(f"{_toml_key(str(k))} = {_toml_value(v)}")
    for k, v in tables:
        name = f"{_prefix}.{_toml_key(str(k))}" if _prefix else _toml_key(str(k))
        if isinstance(v, Mapping):
            lines.append("")
            lines.append(f"[{name}]")
            body = dump_toml(v, name)
            if body:
                lines.append(body)
        else:
            for item in v:
                lines.append("")
                lines.append(f"[[{name}]]")
                body = dump_toml(item, name)
                if body:
                    lines.append(body)
    return "\n".join(lines).strip("\n")


# --------------------------------------------------------------------------- loading


def load_stats(out_dir: str) -> dict[str, Any]:
    """Reads ``stats.json`` (an empty dict if the file is absent)."""
    path = os.path.join(out_dir, "stats.json")
    if not os.path.exists(path):
        log.warning("no stats.json in %s; the card will have no funnel", out_dir)
        return {}
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return data if isinstance(data, dict) else {}


def load_config(out_dir: str) -> tuple[str, dict[str, Any]]:
    """Reads ``config.toml``: its verbatim text and its parsed form ('' and {} if absent)."""
    path = os.path.join(out_dir, "config.toml")
    if not os.path.exists(path):
        return "", {}
    with open(path, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8")
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        log.warning("config.toml does not parse (%s); it is left out of the card", exc)
        return "", {}


def _is_remote(path: str) -> bool:
    return "://" in path


def _documents_footers(out_dir: str, count_rows: bool = True) -> tuple[list[str], int, int, dict[str, str]]:
    """Shard paths, their total bytes, total rows and the first shard's file metadata,
    from the Parquet footers only (a few KB per shard, also on object storage).
    Without ``count_rows`` only the first footer is read (one request, not one per
    shard: stats.json already has the document count)."""
    import pyarrow.parquet as pq

    if _is_remote(out_dir):
        from apache_beam.io.filesystems import FileSystems

        found = FileSystems.match([FileSystems.join(out_dir, "documents", "*.parquet")])[0].metadata_list
        sized = sorted((m.path, m.size_in_bytes) for m in found)

        def footer(path: str):
            with FileSystems.open(path) as fh:  # seekable: pyarrow reads the footer only
                return pq.read_metadata(fh)
    else:
        sized = [(p, os.path.getsize(p)) for p in sorted(glob.glob(os.path.join(out_dir, "documents", "*.parquet")))]
        footer = pq.read_metadata
    rows = 0
    meta: dict[str, str] = {}
    for i, (path, _) in enumerate(sized if count_rows else sized[:1]):
        md = footer(path)
        rows += md.num_rows
        if i == 0 and md.metadata:
            meta = {k.decode(): v.decode("utf-8", "replace") for k, v in md.metadata.items() if k != b"ARROW:schema"}
    return [p for p, _ in sized], sum(n for _, n in sized), rows, meta


def size_category(n: int) -> str:
    """The Hugging Face ``size_categories`` bucket of ``n`` examples.

    >>> size_category(40), size_category(1000), size_category(12_345_678)
    ('n<1K', '1K<n<10K', '10M<n<100M')
    """
    for bound, label in _SIZE_BUCKETS:
        if n < bound:
            return label
    return "n>1T"


# --------------------------------------------------------------------------- plots
#
# Plots are small hand-written SVG documents: no plotting library at run time, and
# byte-identical output for identical stats (no timestamps or generated ids, every
# number formatted by _num). Text is XML-escaped; labels can come from the config.

_KEPT_COLOR = "#3b6ea5"
_DROPPED_COLOR = "#e0a458"
_SERIES_COLORS = ("#3b6ea5", "#e0a458", "#6a994e", "#bc4749")
_AXIS_COLOR = "#333333"
_GRID_COLOR = "#e6e6e6"
_FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
# Characters that XML 1.0 does not allow at all (C0 controls other than tab/LF/CR).
_XML_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _esc(text: Any) -> str:
    """XML-escapes text for an SVG element or attribute.

    >>> _esc('a<b & "c"')
    'a&lt;b &amp; &quot;c&quot;'
    """
    text = _XML_INVALID_RE.sub("", str(text))
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("'", "&#39;")
    )


def _num(x: float) -> str:
    """A coordinate with at most 2 decimals and no trailing zeros (fixed, so output is stable).

    >>> _num(12.0), _num(3.14159), _num(-0.001), _num(0.5)
    ('12', '3.14', '0', '0.5')
    """
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _text_width(text: str, size: float) -> float:
    """Rough rendered width of ``text`` (wide East Asian characters count double)."""
    return size * sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.6 for c in text)


def _fit(text: str, size: float, width: float) -> str:
    """``text`` shortened with an ellipsis so that it fits in ``width``."""
    if _text_width(text, size) <= width:
        return text
    while text and _text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _nice_ticks(lo: float, hi: float, target: int = 6, integer: bool = False) -> tuple[list[float], float]:
    """Round-number ticks in ``[lo, hi]`` (steps of 1, 2 or 5 times a power of ten) and the step.

    >>> _nice_ticks(0, 60.95)
    ([0.0, 20.0, 40.0, 60.0], 20.0)
    >>> _nice_ticks(0.5, 1.0)[0]
    [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    """
    span = hi - lo
    if not span > 0:
        return [lo], 1.0
    raw = span / target
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw * 0.999)
    if integer:
        step = max(step, 1.0)
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return [round(k * step, 10) for k in range(first, last + 1)], step


def _tick_label(value: float, step: float) -> str:
    """A tick label with as many decimals as the step needs (thousands separated).

    >>> _tick_label(2000.0, 500.0), _tick_label(0.25, 0.05), _tick_label(0.001, 0.001)
    ('2,000', '0.25', '0.001')
    """
    if step >= 1 and float(value).is_integer():
        return f"{int(value):,}"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 2
    return f"{value:,.{decimals}f}"


def _log_ticks(lo: float, hi: float) -> list[float]:
    """Powers of ten in ``[lo, hi]`` (every other one or sparser when there are many)."""
    first, last = math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9)
    every = max(1, math.ceil((last - first + 1) / 7))
    return [10.0**k for k in range(first, last + 1, every)]


def _log_label(value: float) -> str:
    """The label of a power-of-ten tick.

    >>> _log_label(100000.0), _log_label(0.01)
    ('100,000', '0.01')
    """
    return f"{int(round(value)):,}" if value >= 1 else f"{value:g}"


class _Svg:
    """Accumulates SVG elements; :meth:`save` writes one standalone document."""

    def __init__(self, width: float, height: float, title: str):
        self.width, self.height, self.title = width, height, title
        self.parts: list[str] = []

    def rect(self, x: float, y: float, w: float, h: float, fill: str, cls: str = "", extra: str = "") -> None:
        attrs = f' class="{cls}"' if cls else ""
        self.parts.append(
            f'<rect{attrs} x="{_num(x)}" y="{_num(y)}" width="{_num(max(w, 0.0))}" height="{_num(max(h, 0.0))}"'
            f' fill="{fill}"{extra}/>'
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = _AXIS_COLOR) -> None:
        self.parts.append(
            f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" stroke="{stroke}" stroke-width="1"/>'
        )

    def text(self, x: float, y: float, text: str, size: float = 10, anchor: str = "start", rotate: bool = False,
             cls: str = "") -> None:
        attrs = f' class="{cls}"' if cls else ""
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if rotate:
            attrs += f' transform="rotate(-90 {_num(x)} {_num(y)})"'
        self.parts.append(
            f'<text{attrs} x="{_num(x)}" y="{_num(y)}" font-size="{_num(size)}" dy="0.35em">'
            f"{_esc(text)}</text>"
        )

    def legend(self, right: float, y: float, items: list[tuple[str, str]]) -> None:
        """Swatches and names, right-aligned at ``right``, centred on ``y``."""
        widths = [12 + 4 + _text_width(name, 10) for name, _ in items]
        x = right - sum(widths) - 12 * (len(items) - 1)
        for (name, color), w in zip(items, widths):
            self.rect(x, y - 6, 12, 12, color, cls="legend")
            self.text(x + 16, y, name, 10)
            x += w + 12

    def save(self, path: str) -> None:
        w, h = _num(self.width), _num(self.height)
        doc = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}"'
            f' font-family="{_FONT}" fill="{_AXIS_COLOR}" role="img" aria-label="{_esc(self.title)}">',
            f"<title>{_esc(self.title)}</title>",
            f'<rect width="{w}" height="{h}" fill="#ffffff"/>',  # readable on dark themes too
            *self.parts,
            "</svg>",
        ]
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(doc) + "\n")


def _y_axis(svg: _Svg, left: float, right: float, top: float, bottom: float, lo: float, hi: float, log: bool,
            label: str) -> Any:
    """Draws a y axis with ticks and grid lines; returns value -> y pixel."""
    if log:
        llo, lhi = math.log10(lo), math.log10(hi)

        def to_y(v: float) -> float:
            return bottom - (math.log10(max(v, lo)) - llo) / (lhi - llo) * (bottom - top)

        ticks = [(t, _log_label(t)) for t in _log_ticks(lo, hi)]
    else:

        def to_y(v: float) -> float:
            return bottom - (v - lo) / (hi - lo) * (bottom - top)

        values, step = _nice_ticks(lo, hi, integer=True)
        ticks = [(t, _tick_label(t, step)) for t in values]
    for value, text in ticks:
        y = to_y(value)
        if abs(y - bottom) > 0.5:
            svg.line(left, y, right, y, _GRID_COLOR)
        svg.line(left - 4, y, left, y)
        svg.text(left - 7, y, text, 10, anchor="end", cls="ytick")
    svg.line(left, top, left, bottom)
    svg.text(16, (top + bottom) / 2, label, 12, anchor="middle", rotate=True)
    return to_y


def _funnel_rows(stats: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for entry in stats.get("funnel") or []:
        if not isinstance(entry, Mapping):
            continue
        dropped = entry.get("dropped") or {}
        if not isinstance(dropped, Mapping):
            dropped = {}
        n_in = _int(entry.get("in"))
        kept = _int(entry.get("kept"))
        stage = str(entry.get("stage", ""))
        rows.append(
            {
                "stage": stage,
                "filter": str(entry.get("filter", stage)),
                "in": n_in,
                "kept": kept,
                "dropped": {str(k): _int(v) for k, v in sorted(dropped.items())},
            }
        )
    return rows


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _step_label(row: Mapping[str, Any]) -> str:
    return row["filter"] if row["filter"] == row["stage"] else f"{row['stage']}/{row['filter']}"


def plot_funnel(stats: Mapping[str, Any], path: str) -> bool:
    """Horizontal bars: documents kept after each step, dropped part stacked."""
    rows = _funnel_rows(stats)
    if not rows:
        return False
    labels = ["input"] + [_step_label(r) for r in rows]
    first_in = rows[0]["in"] or _int(stats.get("records_in"))
    kept = [max(first_in, 0)] + [max(r["kept"], 0) for r in rows]
    dropped = [0] + [max(sum(r["dropped"].values()), 0) for r in rows]
    row_h, width = 26.0, 750.0
    top = 56.0
    bottom = top + row_h * len(labels)
    svg = _Svg(width, bottom + 48, "Funnel: documents kept after each step")
    left = min(max(_text_width(label, 10) for label in labels) + 14, 320.0)
    right = width - 20
    most = max((k + d for k, d in zip(kept, dropped)), default=0) or 1
    x_max = most * 1.15  # room for the count after the longest bar
    scale = (right - left) / x_max
    svg.text(width / 2, 20, svg.title, 14, anchor="middle", cls="title")
    svg.legend(right, 40, [("kept", _KEPT_COLOR), ("dropped", _DROPPED_COLOR)])
    values, step = _nice_ticks(0, x_max, integer=True)
    for value in values:
        x = left + value * scale
        if value:
            svg.line(x, top, x, bottom, _GRID_COLOR)
        svg.line(x, bottom, x, bottom + 4)
        svg.text(x, bottom + 14, _tick_label(value, step), 10, anchor="middle", cls="xtick")
    for i, (label, k, d) in enumerate(zip(labels, kept, dropped)):
        y = top + i * row_h + row_h * 0.1
        h = row_h * 0.8
        svg.rect(left, y, k * scale, h, _KEPT_COLOR, cls="kept", extra=f' data-count="{k}"')
        if d:
            svg.rect(left + k * scale, y, d * scale, h, _DROPPED_COLOR, cls="dropped", extra=f' data-count="{d}"')
        svg.text(left - 7, y + h / 2, _fit(label, 10, left - 10), 10, anchor="end", cls="label")
        svg.text(left + (k + d) * scale + 4, y + h / 2, f"{k:,}", 10, cls="count")
    svg.line(left, top, left, bottom)
    svg.line(left, bottom, right, bottom)
    svg.text((left + right) / 2, bottom + 34, "documents", 12, anchor="middle")
    svg.save(path)
    return True


def _histogram(stats: Mapping[str, Any], name: str) -> tuple[list[float], list[int], bool] | None:
    """Bins of ``stats["histograms"][name]``: (edges, counts, last bin open-ended).

    Accepts ``len(edges) == len(counts) + 1`` (closed bins) and
    ``len(edges) == len(counts)`` (left edges; the last bin has no upper bound).
    """
    hist = (stats.get("histograms") or {}).get(name)
    if not isinstance(hist, Mapping):
        return None
    edges = [float(e) for e in hist.get("edges") or []]
    counts = [_int(c) for c in hist.get("counts") or []]
    if not counts or not sum(counts):
        return None
    if len(edges) == len(counts) + 1:
        return edges, counts, False
    if len(edges) == len(counts) and len(edges) >= 2:
        # Draw the open last bin as wide as the previous one (in log or linear terms).
        a, b = edges[-2], edges[-1]
        last = b * (b / a) if a > 0 and b / a >= 1.5 else b + (b - a)
        return edges + [last], counts, True
    return None


def plot_histogram(stats: Mapping[str, Any], name: str, path: str, xlabel: str, title: str,
                   ylabel: str = "documents") -> bool:
    """Bar plot of a pre-binned histogram ``stats["histograms"][name]``."""
    hist = _histogram(stats, name)
    if hist is None:
        return False
    edges, counts, open_ended = hist
    if not all(math.isfinite(e) for e in edges) or max(counts) <= 0:
        return False
    if open_ended:
        xlabel += f" (last bin: >= {edges[-2]:g})"
    positive = [e for e in edges if e > 0]
    # Length bins are usually geometric; a log axis keeps them equally wide. A
    # first edge of 0 cannot be drawn on it, so that bin starts at half the next edge.
    log_x = len(positive) >= 2 and positive[-1] / positive[0] >= 100
    if log_x:
        edges = [e if e > 0 else positive[0] / 2 for e in edges]
    lo, hi = min(edges), max(edges)
    if not hi > lo:
        hi = lo + 1
    svg = _Svg(700, 360, title)
    left, right, top, bottom = 64.0, 680.0, 40.0, 300.0
    if log_x:
        llo, lhi = math.log10(lo), math.log10(hi)

        def to_x(v: float) -> float:
            return left + (math.log10(v) - llo) / (lhi - llo) * (right - left)

        xticks = [(t, _log_label(t)) for t in _log_ticks(lo, hi)]
    else:

        def to_x(v: float) -> float:
            return left + (v - lo) / (hi - lo) * (right - left)

        values, step = _nice_ticks(lo, hi)
        xticks = [(t, _tick_label(t, step)) for t in values]
    svg.text(350, 20, title, 14, anchor="middle", cls="title")
    to_y = _y_axis(svg, left, right, top, bottom, 0, max(counts) * 1.05, False, ylabel)
    for a, b, count in zip(edges, edges[1:], counts):
        if count <= 0:
            continue
        x1, x2 = sorted((to_x(a), to_x(b)))
        y = to_y(count)
        svg.rect(x1, y, x2 - x1, bottom - y, _KEPT_COLOR, cls="bar",
                 extra=f' data-count="{count}" stroke="#ffffff" stroke-width="0.5"')
    for value, text in xticks:
        x = to_x(value)
        svg.line(x, bottom, x, bottom + 4)
        svg.text(x, bottom + 14, text, 10, anchor="middle", cls="xtick")
    svg.line(left, bottom, right, bottom)
    svg.text((left + right) / 2, bottom + 36, xlabel, 12, anchor="middle")
    svg.save(path)
    return True


def _cluster_sizes(stats: Mapping[str, Any]) -> dict[str, dict[int, int]]:
    """Cluster counts per kind and size, from ``cluster_size_by_kind`` or ``cluster_size``.

    ``cluster_size`` keys are ``"<size>"`` or ``"<kind>:<size>"``.
    """
    hists = stats.get("histograms") or {}
    by_kind: dict[str, dict[int, int]] = {}
    nested = hists.get("cluster_size_by_kind")
    if isinstance(nested, Mapping) and nested:
        for kind, sizes in nested.items():
            if isinstance(sizes, Mapping):
                by_kind[str(kind)] = {_int(k): _int(v) for k, v in sizes.items()}
    else:
        flat = hists.get("cluster_size")
        for key, value in (flat.items() if isinstance(flat, Mapping) else []):
            kind, _, size = str(key).rpartition(":")
            by_kind.setdefault(kind or "near", {})[_int(size)] = _int(value)
    return {k: v for k, v in sorted(by_kind.items()) if any(v.values())}


def plot_cluster_sizes(stats: Mapping[str, Any], path: str) -> bool:
    """Grouped bars of duplicate cluster sizes per kind (exact, near)."""
    by_kind = _cluster_sizes(stats)
    positive = [v for counts in by_kind.values() for v in counts.values() if v > 0]
    if not positive:
        return False
    sizes = sorted({s for counts in by_kind.values() for s in counts})
    svg = _Svg(700, 360, "Duplicate cluster sizes")
    left, right, top, bottom = 64.0, 680.0, 40.0, 300.0
    # Cluster sizes are heavy-tailed; a log axis keeps the tail visible.
    log_y = max(positive) / min(positive) >= 100
    lo, hi = (min(positive) / 2, max(positive) * 2) if log_y else (0, max(positive) * 1.05)
    svg.text(350, 20, svg.title, 14, anchor="middle", cls="title")
    to_y = _y_axis(svg, left, right, top, bottom, lo, hi, log_y, "clusters")
    slot = (right - left) / len(sizes)
    width = slot * 0.8 / len(by_kind)
    for i, (kind, counts) in enumerate(by_kind.items()):
        color = _SERIES_COLORS[i % len(_SERIES_COLORS)]
        for j, size in enumerate(sizes):
            count = counts.get(size, 0)
            if count <= 0:
                continue
            x = left + slot * (j + 0.1) + i * width
            y = to_y(count)
            svg.rect(x, y, width, bottom - y, color, cls="bar", extra=f' data-kind="{_esc(kind)}" data-count="{count}"')
    every = max(1, math.ceil(len(sizes) / 20))  # at most ~20 size labels
    for j, size in enumerate(sizes):
        if j % every == 0:
            x = left + slot * (j + 0.5)
            svg.line(x, bottom, x, bottom + 4)
            svg.text(x, bottom + 14, str(size), 10, anchor="middle", cls="xtick")
    svg.line(left, bottom, right, bottom)
    svg.text((left + right) / 2, bottom + 36, "documents in cluster", 12, anchor="middle")
    svg.legend(right, 40 - 14, [(kind, _SERIES_COLORS[i % len(_SERIES_COLORS)]) for i, kind in enumerate(by_kind)])
    svg.save(path)
    return True


PLOT_NAMES = ("funnel", "n_chars", "lang_score", "cluster_size")  # the plots write_plots draws


def _remove_plots(out_dir: str) -> dict[str, str]:
    """A card written without plots: an earlier card's plots go (unlinked, they would
    still be published as if they described this card). Returns ``{}``."""
    for name in PLOT_NAMES:
        for ext in ("svg", "png"):
            path = os.path.join(out_dir, PLOTS_DIR, f"{name}.{ext}")
            if os.path.exists(path):
                os.remove(path)
    return {}


def write_plots(out_dir: str, stats: Mapping[str, Any]) -> dict[str, str]:
    """Writes the SVG plots; returns {plot name: path relative to out_dir}."""
    plots_dir = os.path.join(out_dir, PLOTS_DIR)
    os.makedirs(plots_dir, exist_ok=True)
    made: dict[str, str] = {}
    jobs = {
        "funnel": lambda p: plot_funnel(stats, p),
        "n_chars": lambda p: plot_histogram(
            stats, "n_chars", p, "characters per document", "Document length"
        ),
        "lang_score": lambda p: plot_histogram(
            # Every page that reached language ID (kept or not): the probability of
            # the language fastText detected, which for a wrong_language reject is
            # that other language's.
            stats, "lang_score", p, "probability of the detected language (fastText)",
            "Language ID: every page that reached it", ylabel="pages",
        ),
        "cluster_size": lambda p: plot_cluster_sizes(stats, p),
    }
    for name, job in jobs.items():
        path = os.path.join(plots_dir, f"{name}.svg")
        legacy = os.path.join(plots_dir, f"{name}.png")
        if os.path.exists(legacy):
            os.remove(legacy)  # written by furui versions that drew PNGs; no longer linked
        if job(path):
            made[name] = f"{PLOTS_DIR}/{name}.svg"
        elif os.path.exists(path):
            os.remove(path)  # a stale plot from an earlier card must not be shown
    return made


# --------------------------------------------------------------------------- markdown


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    header = list(header)
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "n/a"


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


def _yaml_str(value: str) -> str:
    # JSON strings are valid YAML double-quoted scalars.
    return json.dumps(str(value), ensure_ascii=False)


def _yaml_lang(lang: str) -> str:
    """A language code as YAML: bare when safe, quoted when YAML 1.1 would read a
    boolean (fastText's Norwegian ``no``) or the code holds other characters.

    >>> [_yaml_lang(x) for x in ("ja", "no", "ON", "zh-Hant")]
    ['ja', '"no"', '"ON"', 'zh-Hant']
    """
    if re.fullmatch(r"[A-Za-z0-9_-]+", lang) and lang.lower() not in _YAML11_BOOLEANS:
        return lang
    return _yaml_str(lang)


_YAML11_BOOLEANS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false"})


def card_languages(config: Mapping[str, Any]) -> list[str]:
    """The languages the run kept: ``langid``'s ``languages`` (``ja`` without a langid step).

    >>> card_languages({"filters": [{"name": "normalize"}, {"name": "langid", "languages": ["ja", "en"]}]})
    ['ja', 'en']
    >>> card_languages({})
    ['ja']
    """
    for entry in config.get("filters") or []:
        if isinstance(entry, Mapping) and entry.get("name") == "langid":
            langs = [str(x) for x in entry.get("languages", ["ja"]) if str(x)]
            return langs or ["ja"]
    return ["ja"]


def _front_matter(pretty_name: str, license_id: str, n_docs: int, languages: list[str] | None = None) -> list[str]:
    return [
        "---",
        "language:",
        *(f"- {_yaml_lang(lang)}" for lang in (languages or ["ja"])),
        f"license: {_yaml_str(license_id)}",
        f"pretty_name: {_yaml_str(pretty_name)}",
        "size_categories:",
        f"- {size_category(n_docs)}",
        "task_categories:",
        "- text-generation",
        "tags:",
        "- furui",
        "- web-crawl",
        "configs:",
        "- config_name: default",
        "  data_files:",
        "  - split: train",
        '    path: "documents/*.parquet"',
        "---",
    ]


def _filter_thresholds(stats: Mapping[str, Any], config: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    rows = []
    entries = stats.get("filters")
    if isinstance(entries, list) and entries:
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            thresholds = scrub(entry.get("thresholds") or {})
            rows.append(
                (
                    str(entry.get("name", "")),
                    str(entry.get("stage", "")),
                    ", ".join(f"`{k} = {_toml_value(v)}`" for k, v in thresholds.items()) or "(none)",
                )
            )
        return rows
    for entry in config.get("filters") or []:
        if isinstance(entry, Mapping):
            params = {k: v for k, v in scrub(entry).items() if k != "name"}
            rows.append(
                (
                    str(entry.get("name", "")),
                    "",
                    ", ".join(f"`{k} = {_toml_value(v)}`" for k, v in params.items()) or "(none)",
                )
            )
    return rows


def _dedup_params(stats: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = dict(scrub(config.get("dedup") or {}))
    params.update(scrub(stats.get("dedup") or {}))
    bands, rows = params.get("bands"), params.get("rows")
    if "threshold" not in params and isinstance(bands, int) and isinstance(rows, int) and bands and rows:
        params["threshold"] = round((1.0 / bands) ** (1.0 / rows), 3)
    return params


def _boilerplate_section(stats: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    """What the ``site_boilerplate`` step removed (nothing when it did not run).

    >>> _boilerplate_section({"site_boilerplate": {"documents_changed": 3, "lines_removed": 7,
    ...                       "chars_removed": 120}}, {"filters": [{"name": "site_boilerplate", "min_pages": 10}]})[2]
    'Lines that one site repeats on at least 10 different pages (headers, breadcrumbs, footers that main-text extraction kept) were removed where templates put them, in the runs of such lines that open and close a page: 7 lines (120 characters) from 3 of the documents that reached the step. Tables count as one unit; lines without a letter or digit, and code lines that are one markup tag, are never removed.'
    >>> _boilerplate_section({"site_boilerplate": {"lines_removed": 0}}, {})[2]
    'The site boilerplate step (lines that one site repeats on at least 10 different pages) removed nothing in this run.'
    >>> _boilerplate_section({}, {})
    []
    """
    removed = stats.get("site_boilerplate")
    if not isinstance(removed, Mapping):
        return []
    steps = [e for e in config.get("filters") or [] if isinstance(e, Mapping)]
    entry = next((e for e in steps if e.get("name") == "site_boilerplate"), {})
    pages = _int(entry.get("min_pages", 10))
    lines = _int(removed.get("lines_removed"))
    if not lines:
        return ["## Site boilerplate", "",
                f"The site boilerplate step (lines that one site repeats on at least {pages:,} different pages)"
                " removed nothing in this run.", ""]
    return [
        "## Site boilerplate",
        "",
        f"Lines that one site repeats on at least {pages:,} different pages (headers, breadcrumbs, footers"
        " that main-text extraction kept) were removed where templates put them, in the runs of such lines"
        f" that open and close a page: {lines:,} lines ({_int(removed.get('chars_removed')):,}"
        f" characters) from {_int(removed.get('documents_changed')):,} of the documents that reached the step."
        " Tables count as one unit; lines without a letter or digit, and code lines that are one markup tag,"
        " are never removed.",
        "",
    ]


def _pii_section(stats: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    pii_cfg: dict[str, Any] = dict(scrub(config.get("pii") or {}))
    steps = [e for e in config.get("filters") or [] if isinstance(e, Mapping)]
    for entry in steps:
        if entry.get("name") == "pii":
            pii_cfg.update({k: v for k, v in scrub(entry).items() if k != "name"})
    counts = stats.get("pii") or {}
    if steps and not any(e.get("name") == "pii" for e in steps):
        return [
            "## Personal information",
            "",
            "**The PII step was not in this run's configuration: personal information"
            " (e-mail addresses, phone numbers, addresses, identifiers) is not redacted in"
            " these documents.**",
            "",
        ]
    lines = [
        "## Personal information",
        "",
        "Spans that look like personal information are replaced in the text by a"
        " placeholder before deduplication; the original values are not stored in the"
        " `text` column, and this card reports only counts. URLs (the `url` columns of"
        " documents and rejects) are kept as crawled and can themselves contain an"
        " address or a number.",
        "",
    ]
    if pii_cfg:
        lines += ["Configuration in force:", ""]
        lines += [f"- `{k} = {_toml_value(v)}`" for k, v in pii_cfg.items()]
        lines.append("")
    if isinstance(counts, Mapping) and counts:
        lines += _table(["Type", "Spans redacted"], [(k, f"{_int(v):,}") for k, v in sorted(counts.items())])
    elif any(e.get("name") == "pii" for e in steps):
        lines.append("The PII step ran and redacted nothing in the documents kept.")
    else:
        lines.append("No PII counts were recorded for this run (the PII step may be disabled).")
    lines.append("")
    return lines


_LIMITATIONS = [
    "Language identification uses fastText `lid.176` on the first characters of each"
    " document; short or mixed-language pages can be misclassified in either direction.",
    "Quality filters are heuristics (length, character-class ratios), not a trained"
    " quality model; there is no toxicity or adult-content classifier.",
    "PII redaction is pattern-based (e-mail addresses, phone numbers, postal codes and"
    " street addresses, IP addresses, and card, My Number and corporate numbers with"
    " valid check digits); personal names and free-form identifiers are not detected,"
    " and recall is below 100%.",
    "Near-duplicate removal is MinHash-LSH: pairs below the implied Jaccard threshold"
    " are kept, and duplicates are removed only within this run, not against other"
    " corpora or earlier runs.",
    "Main-text extraction (trafilatura) can keep boilerplate (menus, footers) or drop"
    " parts of the article; lines repeated across many pages of one site (a template's"
    " header or footer) are not removed.",
    "Text is NFKC-normalised (unless configured off): full-width punctuation becomes"
    " ASCII and circled numbers become digits.",
    "Documents are web pages written by third parties; copyright and terms of use of"
    " the original pages apply regardless of the license field of this card.",
    "Funnel counts are computed from the data in the pipeline (exact under retries);"
    " only the per-step worker times printed by `furui run` come from runner metrics"
    " and can include retried work. The rejects table is the audit record.",
]


def limitations(config: Mapping[str, Any]) -> list[str]:
    """:data:`_LIMITATIONS` as they apply to the run's config: the language-ID item
    says how much text fastText read (or goes when there is no langid step), the
    near-duplicate item goes when near dedup was off, the extraction item says
    whether (and from how many pages on) a site's repeated lines were removed, and
    one more item says when pages cut short were kept.

    >>> cfg = {"filters": [{"name": "normalize"}, {"name": "langid", "max_chars": 0}],
    ...        "dedup": {"near": False}}
    >>> items = limitations(cfg)
    >>> items[0].startswith("Language identification uses fastText `lid.176` on the whole text")
    True
    >>> any(i.startswith("Near-duplicate removal") for i in items), len(items) == len(_LIMITATIONS) - 1
    (False, True)
    >>> len(limitations({"filters": [{"name": "normalize"}]})) == len(_LIMITATIONS) - 1
    True
    >>> [i for i in limitations({"filters": [{"name": "site_boilerplate", "min_pages": 20}]})
    ...  if "at least 20 different pages" in i] != []
    True
    >>> [i for i in limitations({"filters": [{"name": "normalize"}]}) if i.endswith("are not removed.")] != []
    True
    >>> [i for i in limitations({"io": {"truncated_pages": "keep"}}) if "read.truncated = 1" in i] != []
    True
    """
    steps = [e for e in config.get("filters") or [] if isinstance(e, Mapping)]
    langid = next((e for e in steps if e.get("name") == "langid"), None)
    near = (config.get("dedup") or {}).get("near", True) is not False
    boilerplate = next((e for e in steps if e.get("name") == "site_boilerplate"), None)
    out = []
    for item in _LIMITATIONS:
        if item.startswith("Language identification"):
            if steps and langid is None:
                continue
            chars = (langid or {}).get("max_chars", 4000)
            read = "the whole text" if chars == 0 else f"the first {_int(chars):,} characters"
            item = item.replace("the first characters", read)
        if item.startswith("Near-duplicate removal") and not near:
            continue
        if item.startswith("Main-text extraction") and (boilerplate is not None or not steps):
            pages = _int((boilerplate or {}).get("min_pages", 10))
            item = item.replace(
                "lines repeated across many pages of one site (a template's header or footer) are not removed.",
                f"lines that one site repeats on at least {pages:,} different pages (a template's header or"
                " footer) are removed where they open or close a page, but a template's lines on a site with"
                " fewer pages in the run, lines that vary from page to page, and template lines inside a"
                " page stay.")
        out.append(item)
    io = config.get("io") if isinstance(config.get("io"), Mapping) else {}
    if io.get("truncated_pages") == "keep":
        out.append("Pages known to be incomplete (cut by the crawler, a body short of its"
                   " Content-Length, a compressed body cut short) were kept as far as they"
                   " arrived (`[io] truncated_pages = \"keep\"`): such documents carry the score"
                   " `read.truncated = 1` and can end mid-sentence.")
    return out


def render_card(out_dir: str, stats: Mapping[str, Any], config_text: str, config: Mapping[str, Any], plots: Mapping[str, str]) -> str:
    """Renders the card's Markdown from the run's stats, config and plot paths."""
    if "filters" not in config and stats.get("filters"):
        # A config without [[filters]] ran the default steps, which stats.json lists.
        config = {**config, "filters": [{"name": f.get("name"), **(f.get("thresholds") or {})}
                                        for f in stats["filters"] if isinstance(f, Mapping)]}
    output_cfg = config.get("output") or {}
    shard_paths, shard_bytes, footer_rows, file_meta = _documents_footers(out_dir, "documents_out" not in stats)
    n_docs = _int(stats.get("documents_out")) if "documents_out" in stats else footer_rows
    records_in = _int(stats.get("records_in"))
    rejected = _int(stats.get("rejected"))
    pretty_name = strip_userinfo(str(output_cfg.get("dataset_name") or "furui-ja"))
    license_id = str(output_cfg.get("license") or "other")
    license_set = license_id != "other"
    totals = stats.get("totals") if isinstance(stats.get("totals"), Mapping) else {}
    hosts = stats.get("hosts") if isinstance(stats.get("hosts"), Mapping) else {}
    description = strip_userinfo(str(output_cfg.get("description") or "Japanese web text curated with furui."))
    version = stats.get("furui_version") or file_meta.get("furui_version") or "unknown"
    sha = stats.get("config_sha256") or file_meta.get("config_sha256")
    if not sha and config_text:
        sha = hashlib.sha256(config_text.encode("utf-8")).hexdigest()

    lines = _front_matter(pretty_name, license_id, n_docs, card_languages(config))
    lines += ["", f"# {pretty_name}", "", description, ""]
    lines += _table(
        ["", ""],
        [
            ("Documents", f"{n_docs:,}"),
            ("Input records", f"{records_in:,}" if records_in else "n/a"),
            ("Rejected records", f"{rejected:,}" if "rejected" in stats else "n/a"),
            *([("Repeated document ids", f"{_int(stats['duplicate_ids']):,} (ids are not unique in this output;"
                " see the run's warnings)")] if _int(stats.get("duplicate_ids")) else []),
            *([("Characters", f"{_int(totals.get('chars')):,}")] if "chars" in totals else []),
            *([("Sudachi tokens", f"{_int(totals.get('tokens')):,}")] if _int(totals.get("tokens")) else []),
            *([("Crawl dates", _crawl_dates(stats["crawl_months"]))] if isinstance(stats.get("crawl_months"), Mapping)
              and stats["crawl_months"] else []),
            *([("Hosts", f"{_int(hosts.get('distinct')):,}")] if "distinct" in hosts else []),
            ("Document shards", f"{len(shard_paths)} ({_human_bytes(shard_bytes)})"),
            ("License", license_id + ("" if license_set else " (furui's default: no licence named; see License)")),
        ],
    )
    lines += [
        "",
        "## Loading",
        "",
        "Where this dataset was published with `furui publish`, wait for `_MANIFEST.json` and read the files"
        " it lists (a reader that globs `documents/*.parquet` may see shards of an earlier publish under the"
        " same prefix). In the run's own directory:",
        "",
        "```python",
        "from datasets import load_dataset",
        'ds = load_dataset("parquet", data_files="documents/*.parquet", split="train")',
        "```",
        "",
        "```sql",
        "SELECT id, url, n_chars FROM read_parquet('documents/*.parquet') LIMIT 10;  -- DuckDB",
        "```",
        "",
        "Rejected records with their stage, filter, reason and scores are in"
        " `rejects/*.parquet`; duplicate clusters, exact and near (who was kept for whom), in"
        " `clusters/*.parquet`; per-reason counts in `stats.parquet` and `stats.json`.",
        "",
    ]
    lines += _fields_section()
    lines += _sources_section(stats)
    lines += _hosts_section(hosts, n_docs)
    lines += _pipeline_section(stats, version, sha, config_text, config)
    lines += _funnel_section(stats, records_in, plots)
    thresholds = _filter_thresholds(stats, config)
    lines += ["## Filter thresholds", ""]
    if thresholds:
        lines += ["Steps in execution order:", ""]
        lines += _table(["Filter", "Stage", "Thresholds"], thresholds)
    else:
        lines.append("No filter settings were recorded.")
    lines.append("")
    lines += _boilerplate_section(stats, config)
    lines += _dedup_section(stats, config, plots)
    lines += _pii_section(stats, config)
    lines += ["## Known limitations", ""] + [f"- {item}" for item in limitations(config)] + [""]
    lines += [
        "## License",
        "",
        f"The dataset is released under `{license_id}` as set in the run's `[output] license`."
        if license_set else
        "The card's licence is `other`, furui's default for `[output] license`: no licence was named."
        " Name the one you release this dataset under there before publishing it.",
        "",
    ]
    return "\n".join(lines)


def _crawl_dates(months: Mapping[str, Any]) -> str:
    """The capture months of the documents kept, as a range.

    >>> _crawl_dates({"2019-03": 2, "2024-05": 7, "unknown": 1})
    '2019-03 to 2024-05 (1 document without a date)'
    >>> _crawl_dates({"unknown": 3})
    'unknown (3 documents without a date)'
    """
    known = sorted(m for m in months if m != "unknown")
    unknown = _int(months.get("unknown"))
    span = (known[0] if known[0] == known[-1] else f"{known[0]} to {known[-1]}") if known else "unknown"
    return span + (f" ({unknown:,} document{'s' if unknown != 1 else ''} without a date)" if unknown else "")


def _fields_section() -> list[str]:
    try:
        from schemas.documents import DESCRIPTIONS, SCHEMA
    except ImportError:  # pragma: no cover - schemas ships with furui
        return []
    lines = ["## Data fields", ""]
    lines += _table(["Field", "Type", "Holds"], [(f"`{f.name}`", f"`{f.type}`", DESCRIPTIONS[f.name]) for f in SCHEMA])
    return lines + [""]


def _hosts_section(hosts: Mapping[str, Any], n_docs: int) -> list[str]:
    """The hosts the documents kept come from: how many, and the largest."""
    top = [t for t in hosts.get("top") or [] if isinstance(t, Mapping)][:CARD_TOP_HOSTS]
    without = hosts.get("without_host") if isinstance(hosts.get("without_host"), Mapping) else {}
    hostless = _int(without.get("documents"))
    if not top and not hostless:
        return []
    distinct = _int(hosts.get("distinct"))
    lines = ["## Hosts", ""]
    if top:
        lines += [f"The documents kept come from {distinct:,} host{'s' if distinct != 1 else ''}"
                  f"{f'; the {len(top)} with the most documents' if distinct > len(top) else ''}"
                  " (`stats.json` lists up to 100):", ""]
        # A host is a code span: stats.json may come from elsewhere than furui's host_of.
        lines += _table(["Host", "Documents", "Share", "Characters"],
                        [(f"`{_code_text(t.get('host', ''))}`", f"{_int(t.get('documents')):,}",
                          _pct(_int(t.get("documents")), n_docs), f"{_int(t.get('chars')):,}") for t in top])
        lines.append("")
    if hostless:
        lines.append(f"{hostless:,} document(s) have no URL with a host name (JSONL lines without `url`, URLs"
                     " without a scheme, or a host no domain name or IP address can be).")
        lines.append("")
    return lines


def _code_text(value: Any) -> str:
    r"""Text for a Markdown code span in a table cell: no backtick ends it, no
    backslash escapes the cell's pipe.

    >>> _code_text("a`b\\|c")
    'a%60b%5C|c'
    """
    return str(value).replace("`", "%60").replace("\\", "%5C")


def _sources_section(stats: Mapping[str, Any]) -> list[str]:
    inputs = [strip_userinfo(str(p)) for p in stats.get("inputs") or []]
    lists = [x for x in stats.get("input_lists") or [] if isinstance(x, Mapping)]
    lines = ["## Sources", ""]
    if not inputs and not lists:
        return lines + ["The input paths were not recorded.", ""]
    if inputs:
        lines.append(f"{len(inputs):,} input path(s) or pattern(s) as given (credentials in URLs removed):")
        lines.append("")
        lines += [f"- `{_code_text(p)}`" for p in inputs[:MAX_LISTED_INPUTS]]
        if len(inputs) > MAX_LISTED_INPUTS:
            lines.append(f"- ... and {len(inputs) - MAX_LISTED_INPUTS:,} more (see `stats.json`)")
        lines.append("")
    if lists:
        lines.append(f"{len(lists):,} input list(s), each naming input paths or patterns one per line "
                     "(relative lines under the base shown):")
        lines.append("")
        lines += [f"- `{_code_text(strip_userinfo(str(x.get('list', ''))))}` "
                  f"(base `{_code_text(strip_userinfo(str(x.get('base', ''))))}`)" for x in lists[:MAX_LISTED_INPUTS]]
        if len(lists) > MAX_LISTED_INPUTS:
            lines.append(f"- ... and {len(lists) - MAX_LISTED_INPUTS:,} more (see `stats.json`)")
        lines.append("")
    return lines


def _pipeline_section(stats, version, sha, config_text, config) -> list[str]:
    lines = ["## Pipeline", ""]
    schema_versions = stats.get("schema_versions") or {}
    rows = [("furui version", f"`{version}`")]
    if sha:
        rows.append(("Config SHA-256", f"`{sha}`"))
    if "config_version" in stats or "config_version" in config:
        rows.append(("Config version", f"`{stats.get('config_version', config.get('config_version'))}`"))
    if isinstance(schema_versions, Mapping):
        rows += [(f"Schema version: {k}", f"`{v}`") for k, v in sorted(schema_versions.items())]
    lines += _table(["", ""], rows)
    lines.append("")
    if config:
        redacted = secret_paths(config)
        if redacted:
            body = dump_toml(scrub(config))
            lines.append(
                f"The config file given ({len(redacted)} secret-looking value(s) redacted, so"
                " this is a re-serialisation; the SHA-256 above is of the original file; keys it leaves out"
                " took their defaults, and `stats.json` lists every value in force):"
            )
        else:
            body = config_text.rstrip("\n")
            lines.append("The config file given (`config.toml`, verbatim; keys it leaves out took their defaults, "
                         "and `stats.json` lists every value in force):")
        lines += ["", "```toml", body, "```", ""]
    return lines


def _funnel_section(stats, records_in, plots) -> list[str]:
    rows = _funnel_rows(stats)
    lines = ["## Funnel", ""]
    if not rows:
        return lines + ["No funnel was recorded for this run.", ""]
    base = records_in or rows[0]["in"]
    if "funnel" in plots:
        lines += [f"![Funnel]({plots['funnel']})", ""]
    lines += ["Per step:", ""]
    lines += _table(
        ["Stage", "Filter", "In", "Kept", "Dropped", "Kept of step input", "Kept of all input"],
        [
            (
                r["stage"],
                r["filter"],
                f"{r['in']:,}",
                f"{r['kept']:,}",
                f"{sum(r['dropped'].values()):,}",
                _pct(r["kept"], r["in"]),
                _pct(r["kept"], base),
            )
            for r in rows
        ],
    )
    extracted = next((r["in"] for r in rows if r["stage"] == "extract"), None)
    if extracted and extracted != base and "documents_out" in stats:
        # "Kept of all input" counts WARC requests, metadata, images and scripts too.
        lines += ["", f"Of the {base:,} records read, {extracted:,} were pages that reached text extraction"
                      " (the others were dropped on reading: WARC request and metadata records, images,"
                      f" scripts, damaged records...); {_pct(_int(stats['documents_out']), extracted)} of those"
                      " pages are in the documents."]
    lines += ["", "Per reason:", ""]
    reason_rows = [
        (r["stage"], r["filter"], f"`{reason}`", f"{count:,}", _pct(count, r["in"]), _pct(count, base))
        for r in rows
        for reason, count in r["dropped"].items()
    ]
    lines += _table(["Stage", "Filter", "Reason", "Dropped", "Of step input", "Of all input"], reason_rows)
    lines.append("")
    for name, caption in (("n_chars", "Document length"), ("lang_score", "Language-ID confidence of every page that reached language ID")):
        if name in plots:
            lines += [f"![{caption}]({plots[name]})", ""]
    return lines


def _dedup_section(stats, config, plots) -> list[str]:
    params = _dedup_params(stats, config)
    lines = ["## Deduplication", ""]
    if not params:
        return lines + ["No deduplication parameters were recorded (dedup may be disabled).", ""]
    keeper = params.get("keeper")
    order = ", then ".join(f"`{k}`" for k in keeper) if isinstance(keeper, list) and keeper else (
        "highest `quality`, then smallest id")
    if "quality" in order:  # the name promises more than it holds
        order += "; `quality` is language ID's probability of a wanted language, not a quality model's score"
    exact, near = params.get("exact", True) is not False, params.get("near", True) is not False
    near_text = (
        "near-duplicates are found with MinHash signatures over shingles and LSH banding"
        " (`bands` x `rows`), which flags pairs above roughly `(1/bands)^(1/rows)` Jaccard"
        " similarity")
    if exact and near:
        lines.append(f"Exact duplicates are removed first; {near_text}. In each cluster one"
                     f" document is kept ({order}).")
    elif exact:
        lines.append("Exact duplicates (identical normalised texts) are removed; near-duplicate"
                     f" removal was off (`near = false`). Of each group one document is kept ({order}).")
    elif near:
        lines.append(f"Exact-duplicate removal was off (`exact = false`). {near_text[0].upper()}"
                     f"{near_text[1:]}. In each cluster one document is kept ({order}).")
    else:
        lines.append("Deduplication was off (`exact = false`, `near = false`): the documents may"
                     " contain duplicates.")
    lines.append("")
    # Only the parameters that applied: with near dedup off, the MinHash/LSH ones did not;
    # "clusters" is a result, not a parameter.
    near_only = {"ngram", "tokenizer", "num_perm", "seed", "method", "bands", "rows", "threshold",
                 "verify_threshold", "max_bucket_size", "max_rounds", "batch_size"}
    shown = {k: v for k, v in params.items() if k != "clusters" and (near or k not in near_only)}
    lines += _table(["Parameter", "Value"], [(k, f"`{_toml_value(v)}`") for k, v in shown.items()])
    lines.append("")
    if "clusters" in params:
        lines += [f"Duplicate clusters found: {_int(params['clusters']):,}.", ""]
    if "cluster_size" in plots:
        lines += [f"![Duplicate cluster sizes]({plots['cluster_size']})", ""]
    return lines


def write_card(out_dir: str, plots: bool = True) -> str:
    """Writes ``OUTPUT_DIR/README.md`` and ``OUTPUT_DIR/plots/*.svg``.

    Args:
        out_dir: a run output directory, local or on any Beam filesystem
            (``s3://``, ``gs://``: only ``stats.json``, ``config.toml`` and the
            shards' footers are read; the card and plots are written back).
        plots: write the SVG plots.

    Returns:
        The path of the written README.

    Raises:
        FileNotFoundError: if ``out_dir`` is not a directory.
    """
    if _is_remote(out_dir):
        return _write_remote_card(out_dir, plots)
    if not os.path.isdir(out_dir):
        raise FileNotFoundError(f"output directory not found: {out_dir}")
    stats = load_stats(out_dir)
    config_text, config = load_config(out_dir)
    made = write_plots(out_dir, stats) if plots else _remove_plots(out_dir)
    text = render_card(out_dir, stats, config_text, config, made)
    path = os.path.join(out_dir, CARD_NAME)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    log.info("wrote dataset card %s (%d plot(s))", path, len(made))
    return path


def _write_remote_card(out_dir: str, plots: bool) -> str:
    """The card of a run on object storage: rendered in a temporary directory from
    the run's stats and config, then uploaded with its plots (stale plots deleted)."""
    import shutil
    import tempfile

    from apache_beam.io.filesystems import FileSystems

    def remote(rel: str) -> str:
        return FileSystems.join(out_dir, *rel.split("/"))

    with tempfile.TemporaryDirectory(prefix="furui-card-") as tmp:
        for name in ("stats.json", "config.toml"):
            if FileSystems.exists(remote(name)):
                with FileSystems.open(remote(name)) as src, open(os.path.join(tmp, name), "wb") as dst:
                    shutil.copyfileobj(src, dst)
        stats = load_stats(tmp)
        config_text, config = load_config(tmp)
        made = write_plots(tmp, stats) if plots else {}
        text = render_card(out_dir, stats, config_text, config, made)
        uploads = {CARD_NAME: text.encode("utf-8")}
        for rel in made.values():
            with open(os.path.join(tmp, rel), "rb") as f:
                uploads[rel] = f.read()
    for rel, data in uploads.items():
        with FileSystems.create(remote(rel), mime_type=content_type(rel)) as fh:
            fh.write(data)
    # As locally: this card's own plots that were not made (all of them without plots).
    stale = [remote(f"{PLOTS_DIR}/{name}.svg") for name in PLOT_NAMES if name not in made]
    stale = [p for p in stale if FileSystems.exists(p)]
    if stale:
        FileSystems.delete(stale)
    path = remote(CARD_NAME)
    log.info("wrote dataset card %s (%d plot(s))", strip_userinfo(path), len(made))
    return path


def main_card(argv: list[str] | None = None) -> int:
    """``furui card OUTPUT_DIR``: writes the dataset card of a run. Returns the exit code."""
    parser = argparse.ArgumentParser(prog="furui card", description="Write the dataset card (README.md + plots) of a run.")
    parser.add_argument("output_dir", help="output directory of `furui run` (local, s3://, gs://)")
    parser.add_argument("--no-plots", action="store_true", help="skip the SVG plots")
    from pipeline.run import UsageError, check_options, split_beam_values

    args, beam_args = parser.parse_known_intermixed_args(split_beam_values(list(sys.argv[1:] if argv is None else argv)))
    if _is_remote(args.output_dir):
        # Filesystem options (--s3_endpoint_url...) as `furui run` takes them; an
        # unknown or misspelt one is an error (a typo'd endpoint retried for minutes).
        from apache_beam.io.filesystems import FileSystems
        from apache_beam.options.pipeline_options import PipelineOptions

        try:
            check_options(beam_args, strict=True)
        except UsageError as exc:
            print(f"furui card: error: {exc}", file=sys.stderr)
            return 2
        FileSystems.set_options(PipelineOptions(beam_args))
        try:
            exists = FileSystems.exists(FileSystems.join(args.output_dir, "stats.json"))
        except Exception as exc:  # noqa: BLE001 - one line, no traceback
            print(f"furui card: error: cannot read {strip_userinfo(args.output_dir)}: {exc}", file=sys.stderr)
            return 1
        if not exists:
            print(f"furui card: error: no stats.json in {strip_userinfo(args.output_dir)}: not the output of "
                  "`furui run`", file=sys.stderr)
            return 2
    elif beam_args:
        parser.error(f"unrecognized arguments: {' '.join(beam_args)}")
    elif not os.path.isdir(args.output_dir):  # a wrong argument, like a directory that is not a run's
        print(f"furui card: error: output directory not found: {args.output_dir}", file=sys.stderr)
        return 2
    elif not os.path.isfile(os.path.join(args.output_dir, "stats.json")):
        # Not a run's output: its README.md may be someone's own file.
        print(f"furui card: error: no stats.json in {args.output_dir}: not the output of `furui run`", file=sys.stderr)
        return 2
    try:
        path = write_card(args.output_dir, plots=not args.no_plots)
    except (OSError, ValueError) as exc:
        print(f"furui card: error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main_card())
