"""The run configuration: one versioned TOML file parsed into frozen dataclasses.

Layout of the file (see ``pipeline/configs/default.toml`` for every key and its
default)::

    config_version = 1
    [io]          # reading inputs
    [extract]     # charset decoding + trafilatura
    [[filters]]   # every per-document step after extraction, in execution order:
                  # normalize, langid, tokenize, quality filters, pii
    [dedup]       # exact + near-duplicate removal
    [output]      # shards, card metadata

Unknown sections or keys are errors (a typo must not silently fall back to a
default). A section or key left out takes its default; in particular a config
without ``[dedup]`` still deduplicates (``exact = false`` and ``near = false``
turn it off). The SHA-256 of the file's bytes goes into every output's metadata.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Mapping

import filters  # noqa: F401  (registers the built-in steps)
from filters.base import ConfigError, Filter, build_filter, check_types

CONFIG_VERSION = 1
DEFAULT_CONFIG = "default.toml"


@dataclass(frozen=True)
class IoConfig:
    """``[io]``: reading inputs.

    Attributes:
        max_payload_bytes: HTTP bodies larger than this are rejected as
            ``read/too_large`` (default 10 MB; real article pages are < 1 MB).
        reshuffle: redistribute records across workers after reading: ``true``,
            ``false`` or ``"auto"`` (default). Reading is parallel by file; at
            scale the input is thousands of files and a reshuffle of raw pages
            would be a needless full shuffle, but on the local runner a worker
            reads, extracts and filters whole files, so uneven files leave a
            worker idle. ``auto`` reshuffles on a local run with more than one
            worker (``multi_processing``/``multi_threading``), never elsewhere.
        truncated_pages: what to do with a page known to be incomplete: the
            crawler cut it (``WARC-Truncated``; Common Crawl stops at 1 MiB), its
            HTTP body is shorter than its Content-Length, or its gzip/deflate
            body ends inside the stream. ``"reject"`` (default): a ``read/truncated``
            reject; ``"keep"``: extract what arrived, with the score
            ``read.truncated = 1`` on the document.
    """

    max_payload_bytes: int = 10_000_000
    reshuffle: bool | str = "auto"
    truncated_pages: str = "reject"

    def __post_init__(self) -> None:
        if self.max_payload_bytes <= 0:
            raise ValueError("max_payload_bytes must be > 0")
        if self.reshuffle not in (True, False, "auto"):
            raise ValueError(f'reshuffle must be true, false or "auto", got {_shown(self.reshuffle)}')
        if self.truncated_pages not in ("reject", "keep"):
            raise ValueError(f'truncated_pages must be "reject" or "keep", got {self.truncated_pages!r}')


# Ten CPU minutes for one page: beyond any real page (~5 ms). The wall-clock backstop
# for code that ignores the CPU timer is 3x + 10 s, i.e. at most ~30 minutes.
MAX_TIMEOUT_S = 600.0
# A tenth of a CPU second: below it the limit is a mistake, not a setting (the
# child's timer ticks in milliseconds, and 5e-324 s "passed > 0" and rejected
# every page as a timeout).
MIN_TIMEOUT_S = 0.1


@dataclass(frozen=True)
class ExtractConfig:
    """``[extract]``: main-text extraction.

    Attributes:
        timeout_s: hard per-document time limit for trafilatura, in seconds of
            the extraction child's CPU time (at most 600), so a loaded worker
            gives a page the same verdict as an idle one while the child gets a
            third of a core (retries and reruns agree; another CPU type can
            still move a page that needs about this long). A page stuck in C
            code is stopped by a wall-clock backstop of ``3 * timeout_s + 10`` s.
            A restarted child's start-up is not charged to the next page.
        isolate: run trafilatura in a child process so the limit can be enforced
            and a crash cannot take the worker down (default true).
        favor: ``balanced``, ``precision`` or ``recall`` (trafilatura's modes).
        include_tables: keep table text.
        include_comments: keep user comments.
        join_wrapped_lines: join the lines a page's source wraps inside a paragraph,
            as a browser shows them (``pipeline.extract.join_wrapped_lines``); false
            gives trafilatura's text as it is, source line breaks included.
        fast: skip trafilatura's fallback extractors (it runs readability on every
            page, and jusText on short ones, and keeps their text when its own
            looks worse): about a quarter less extraction time; 2% of real pages
            come out different, most of them worse (bench/RESULTS-e2e.md,
            "Fourteenth session").
    """

    timeout_s: float = 10.0
    isolate: bool = True
    favor: str = "balanced"
    include_tables: bool = True
    include_comments: bool = False
    join_wrapped_lines: bool = True
    fast: bool = False

    def __post_init__(self) -> None:
        if self.favor not in ("balanced", "precision", "recall"):
            raise ValueError(f"favor must be balanced, precision or recall, got {_shown(self.favor)}")
        # nan and inf pass "<= 0" and fail in every worker (a poll timeout must be a
        # finite number); there is no "no limit": isolate = false runs without one.
        if not MIN_TIMEOUT_S <= self.timeout_s <= MAX_TIMEOUT_S:
            raise ValueError(f"timeout_s must be at least {MIN_TIMEOUT_S:g} and at most {MAX_TIMEOUT_S:g} seconds, "
                             f"got {self.timeout_s!r} "
                             "(isolate = false extracts in process, without a limit)")


@dataclass(frozen=True)
class OutputConfig:
    """``[output]``: shards and dataset-card metadata.

    Attributes:
        shard_bytes: target size of a shard's rows in Arrow (text, scores, metadata;
            default 256 MB). Writing one shard peaks at ~3.5x this in a worker.
        row_group_bytes: target uncompressed bytes per row group (default 64 MB,
            small enough for streaming readers, large enough for good compression).
        compression: Parquet codec (default zstd).
        compression_level: codec level (zstd 3: fast, ~30% smaller than snappy);
            leave it out for the codec's own default; snappy and none take none.
        dataset_name: name shown on the dataset card.
        license: license identifier for the card (HF style, e.g. ``other``).
        description: one paragraph for the card.
        card: write the dataset card at the end of ``furui run``.
    """

    shard_bytes: int = 256_000_000
    row_group_bytes: int = 64_000_000
    compression: str = "zstd"
    compression_level: int | None = None
    dataset_name: str = "furui-ja"
    license: str = "other"
    description: str = "Japanese web text curated with furui."
    card: bool = True

    def __post_init__(self) -> None:
        if self.shard_bytes <= 0 or self.row_group_bytes <= 0:
            raise ValueError("shard_bytes and row_group_bytes must be > 0")
        import pyarrow as pa

        # Parquet's codecs (pyarrow also has bz2 and lz4_frame, which Parquet cannot write).
        codec = self.compression.lower()
        ok = codec == "none" or (codec in ("zstd", "snappy", "gzip", "brotli", "lz4") and pa.Codec.is_available(codec))
        if not ok:
            raise ValueError(f"compression {self.compression!r} is not a Parquet codec pyarrow has here "
                             "(zstd, snappy, gzip, brotli, lz4, none)")
        level = self.compression_level
        if codec == "none" or not pa.Codec.supports_compression_level(codec):
            if level is not None:  # pyarrow would refuse it in the writer, after the output was cleared
                raise ValueError(f"compression {self.compression!r} has no levels: remove compression_level")
            return
        if level is None:
            level = 3 if codec == "zstd" else pa.Codec.default_compression_level(codec)
            object.__setattr__(self, "compression_level", level)
        low, high = pa.Codec.minimum_compression_level(codec), pa.Codec.maximum_compression_level(codec)
        if not low <= level <= high:
            raise ValueError(f"compression_level for {codec} must be between {low} and {high}, got {level}")


@dataclass(frozen=True)
class Config:
    """A parsed, validated run configuration."""

    config_version: int
    io: IoConfig
    extract: ExtractConfig
    steps: tuple[Filter, ...]
    dedup: Any  # dedup.params.DedupParams (exact = near = False: no dedup)
    output: OutputConfig
    text: str = field(repr=False, default="")
    sha256: str = ""

    def step_names(self) -> list[str]:
        """Names of the per-document steps in execution order."""
        return [s.name for s in self.steps]


def _table(data: Any, where: str) -> dict[str, Any]:
    """A section's key/value table; a section written as a value is refused (``dedup
    = false`` would otherwise mean every default, dedup on)."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"[{where}] must be a table of settings, got {type(data).__name__} {_shown(data)}: write "
                          f"[{where}] on its own line and its settings below it"
                          + (" (dedup off: exact = false and near = false)" if where == "dedup" else ""))
    return dict(data)


def _shown(value: Any) -> str:
    """A value as an error message shows it: its repr, cut at 60 characters.

    >>> _shown("x" * 100)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."
    """
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "..."


def _section(cls, data: Mapping[str, Any] | None, where: str):
    data = _table(data, where)
    allowed = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(f"[{where}]: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    check_types(cls, data, f"[{where}]")
    try:
        return cls(**data)
    except (TypeError, ValueError, OverflowError) as exc:  # OverflowError: an integer no float holds
        raise ConfigError(f"[{where}]: {exc}") from exc


def _dedup(data: Mapping[str, Any] | None):
    from dedup.params import DedupParams

    data = _table(data, "dedup")
    if isinstance(data.get("keeper"), list):  # a string is left for the type check to name
        data["keeper"] = tuple(data["keeper"])
    return _section(DedupParams, data, "dedup")


_TOP_KEYS = {"config_version", "io", "extract", "filters", "dedup", "output"}


def parse_config(text: str) -> Config:
    """Parses and validates a TOML config.

    Raises:
        ConfigError: on syntax errors, unknown keys, wrong version or bad values.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config is not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ConfigError(f"unknown top-level key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_TOP_KEYS))}")
    # The config is copied into the output (config.toml, which `furui publish` uploads)
    # and hashed into every file: a credential in it would be published. Refused, as
    # in input and output URLs.
    from pipeline.card import secret_paths

    leaks = secret_paths(data)
    if leaks:
        raise ConfigError(f"config value(s) {', '.join(leaks)} hold credentials (a user:password@ in a URL, an "
                          "access key id or a signed URL); the config is copied into the output: use the "
                          "storage's own credential chain")
    version = data.get("config_version")
    if version is None:
        raise ConfigError(f"config_version is missing: every config starts with config_version = {CONFIG_VERSION} "
                          "(the sections it does not list keep their defaults)")
    if type(version) is not int or version != CONFIG_VERSION:  # TOML's true and 1.0 equal 1 in Python
        raise ConfigError(f"config_version must be {CONFIG_VERSION}, got {version!r}")
    # The sections first: a typo there is named even when the steps are wrong too.
    io = _section(IoConfig, data.get("io"), "io")
    extract = _section(ExtractConfig, data.get("extract"), "extract")
    # Like every other section, a missing [dedup] means its defaults (both
    # passes on): leaving it out must not silently switch dedup off. Turning
    # it off is explicit: exact = false and near = false.
    dedup = _dedup(data.get("dedup"))
    output = _section(OutputConfig, data.get("output"), "output")
    # No [[filters]] at all: the default steps, so a config can change one section
    # (say [output] dataset_name) without copying the step list. An empty list is an error.
    entries = data["filters"] if "filters" in data else tomllib.loads(default_config_text())["filters"]
    if not isinstance(entries, list):
        raise ConfigError(f"filters must be a list of [[filters]] tables, got {type(entries).__name__} "
                          f"{entries!r:.40}; each step is a [[filters]] table with a name")
    steps: list[Filter] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "name" not in entry:
            raise ConfigError(f"[[filters]] entry {i + 1} has no name")
        if not isinstance(entry["name"], str):
            raise ConfigError(f"[[filters]] entry {i + 1}: name must be a string, got {_shown(entry['name'])}")
        params = {k: (tuple(v) if isinstance(v, list) else v) for k, v in entry.items() if k != "name"}
        steps.append(build_filter(entry["name"], params))
    names = [s.name for s in steps]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"[[filters]]: step(s) listed twice: {', '.join(dupes)}")
    if not steps:
        raise ConfigError("[[filters]]: no steps; list at least normalize (see the bundled default config)")
    if steps[0].name != "normalize":
        raise ConfigError("[[filters]]: the first step must be 'normalize' (every later step expects NFKC text)")
    if "noun_ratio" in names and ("tokenize" not in names or names.index("tokenize") > names.index("noun_ratio")):
        raise ConfigError("[[filters]]: 'noun_ratio' reads the score of 'tokenize', which must come before it "
                          "(without it noun_ratio would keep every document)")
    if "site_boilerplate" in names:
        late = [n for n in ("tokenize", "pii") if n in names and names.index(n) < names.index("site_boilerplate")]
        if late:
            raise ConfigError(f"[[filters]]: 'site_boilerplate' must come before {' and '.join(map(repr, late))}: it "
                              "rewrites the text, which would leave their token and PII counts stale")
    return Config(
        config_version=version,
        io=io,
        extract=extract,
        steps=tuple(steps),
        dedup=dedup,
        output=output,
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def default_config_text() -> str:
    """The bundled default config, verbatim."""
    return (resources.files("pipeline") / "configs" / DEFAULT_CONFIG).read_text(encoding="utf-8")


def load_config(path: str | None = None) -> Config:
    """Loads ``path`` (any Beam filesystem path) or the bundled default.

    Raises:
        ConfigError: unreadable file or invalid content.
    """
    if path is None:
        return parse_config(default_config_text())
    try:
        if "://" in path:
            from apache_beam.io.filesystems import FileSystems

            with FileSystems.open(path) as fh:
                data = fh.read()
        else:
            with open(path, "rb") as fh:
                data = fh.read()
        # Bytes as they are (no newline translation), so the config's SHA-256 is the
        # file's on every filesystem; a UTF-8 byte-order mark is allowed and dropped.
        text = data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError, Exception) as exc:  # noqa: B014 - any IO failure
        raise ConfigError(f"cannot read config {path}: {exc}") from exc
    return parse_config(text)
