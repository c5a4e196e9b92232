"""The filter interface shared by every per-document step.

A step is a frozen dataclass whose fields are its thresholds. It measures a
document (:meth:`Filter.score`), optionally rewrites it (:meth:`Filter.apply`,
used by normalisers and redactors), and decides from the measurements alone
(:meth:`Filter.decide`), so notebooks can re-decide from stored scores without
re-scoring. Steps never count anything themselves: ``pipeline.stages.ApplyFilter``
does the accounting for all of them.

Heavy resources (fastText model, Sudachi dictionary, word lists) are loaded by
:meth:`Filter.load`, never in ``__init__``; they live in a private state dict
that is dropped when the step is pickled, so a step ships cheaply to workers.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

from schemas.records import Doc

REGISTRY: dict[str, type["Filter"]] = {}


class ConfigError(ValueError):
    """A step was configured with an unknown name or unknown/invalid thresholds."""


def _number(v) -> str:
    """A score for a reader: whole numbers in full (a length of 1,268,990 is not
    ``1.269e+06``), other values to 4 significant digits."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.4g}" if isinstance(v, float) else str(v)


@dataclass(frozen=True)
class Filter:
    """Base class of every per-document step.

    Class attributes:
        name: snake_case, unique and stable: config key, metric namespace suffix
            and reject label.
        stage: The pipeline stage the step belongs to (``filter`` for quality
            filters; ``normalize``, ``langid``, ``tokenize``, ``pii`` otherwise).
        reasons: The closed set of drop reasons :meth:`decide` may return.

    Example:
        >>> from filters.length import LengthFilter
        >>> f = LengthFilter(min_chars=3)
        >>> doc = Doc(id="1", url="", source="", crawl_date="", text="ねこ")
        >>> f.decide(f.score(doc))
        'too_short'
    """

    name: ClassVar[str] = ""
    stage: ClassVar[str] = "filter"
    reasons: ClassVar[tuple[str, ...]] = ()
    #: Allowed range of each numeric threshold, inclusive: ``{field: (low, high)}``,
    #: ``None`` for no bound. Checked when the step is built, so a share written as
    #: a percentage (``20`` for 0.2) or a negative count is a config error, not a
    #: filter that silently drops every document or none.
    bounds: ClassVar[Mapping[str, tuple[float | None, float | None]]] = {}
    #: ``(low_field, high_field)`` pairs that must not cross (no document could pass).
    ordered: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __post_init__(self) -> None:
        """Checks :attr:`bounds` and :attr:`ordered` (subclasses that override this call it).

        >>> from filters.hiragana import HiraganaRatioFilter
        >>> HiraganaRatioFilter(min_ratio=20)
        Traceback (most recent call last):
        ...
        ValueError: min_ratio must be a share between 0 and 1 (0.2 means 20%), got 20
        """
        for field, (low, high) in self.bounds.items():
            value = getattr(self, field)
            if value != value or (low is not None and value < low) or (high is not None and value > high):  # NaN too
                raise ValueError(f"{field} must be {_range_text(low, high)}, got {value!r}")
        for low_field, high_field in self.ordered:
            low, high = getattr(self, low_field), getattr(self, high_field)
            if low > high:
                raise ValueError(f"{low_field} ({low!r}) is above {high_field} ({high!r}): no document could pass")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("name"):
            if cls.name in REGISTRY and REGISTRY[cls.name].__qualname__ != cls.__qualname__:
                raise ValueError(f"duplicate filter name {cls.name!r}")
            REGISTRY[cls.name] = cls

    # -- resources -----------------------------------------------------------
    @property
    def _state(self) -> dict[str, Any]:
        state = self.__dict__.get("_furui_state")
        if state is None:
            state = {}
            object.__setattr__(self, "_furui_state", state)
        return state

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_furui_state"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def load(self) -> None:
        """Loads heavy resources. Idempotent; called once per worker in ``DoFn.setup``."""

    def check(self) -> None:
        """Checks, cheaply, that the step's resources exist here and can be read.

        The driver of a local run calls it before anything is written, so a wrong
        model or word-list path is one clear error instead of a failure in every
        worker after the previous output was cleared. (On a distributed runner
        the workers may see other paths.) Small resources (word lists, regexes)
        are read; large ones are only recognised by their header.

        Raises:
            FileNotFoundError: a resource is missing or is not what it should be.
            ValueError: a resource is present but cannot be used (encoding, syntax).
        """

    # -- the three operations -----------------------------------------------
    def score(self, doc: Doc) -> dict[str, float]:
        """Returns deterministic measurements of ``doc`` (no decision)."""
        return {}

    def decide(self, scores: Mapping[str, float]) -> str | None:
        """Returns one of :attr:`reasons` to drop, or ``None`` to keep.

        Reads only ``scores`` and the thresholds (dataclass fields).
        """
        return None

    def apply(self, doc: Doc) -> tuple[Doc, dict[str, float]]:
        """Returns the (possibly rewritten) document and its scores.

        Filters keep the default (no rewrite); normalisers and redactors override it.
        """
        return doc, self.score(doc)

    def detail(self, doc: Doc, scores: Mapping[str, float], reason: str) -> str:
        """Text for a reject's ``detail`` column, from the document :meth:`apply`
        returned and its scores (which the rejects table also holds, as numbers).

        Default: the step's measurements, so a reject can be read without
        decoding the scores column (``ratio=0.054``); steps override it when the
        scores alone do not say what was seen.

        >>> from filters.hiragana import HiraganaRatioFilter
        >>> HiraganaRatioFilter().detail(None, {"ratio": 0.0537, "chars": 812.0}, "too_few_hiragana")
        'ratio=0.0537 chars=812'
        >>> HiraganaRatioFilter().detail(None, {"n_chars": 1268990.0, "ratio": 1e-05}, "")
        'n_chars=1268990 ratio=1e-05'
        """
        return " ".join(f"{k}={_number(v)}" for k, v in scores.items())[:300]

    def apply_batch(self, docs: list[Doc]) -> list[tuple[Doc, dict[str, float]]]:
        """Batched :meth:`apply`; steps whose models batch well override it."""
        return [self.apply(d) for d in docs]

    def thresholds(self) -> dict[str, Any]:
        """The thresholds in force (``dataclasses.asdict``), for reports and cards."""
        return dataclasses.asdict(self)


#: The bounds of a share (a ratio of counts).
SHARE = (0.0, 1.0)
#: The bounds of a count or a length.
COUNT = (0, None)


def _range_text(low: float | None, high: float | None) -> str:
    """
    >>> _range_text(0.0, 1.0), _range_text(0, None), _range_text(-1, 9)
    ('a share between 0 and 1 (0.2 means 20%)', 'at least 0', 'between -1 and 9')
    """
    if (low, high) == SHARE:
        return "a share between 0 and 1 (0.2 means 20%)"
    if high is None:
        return f"at least {low}"
    if low is None:
        return f"at most {high}"
    return f"between {low} and {high}"


def _type_ok(value: Any, hint: Any) -> bool:
    if hint is Any:
        return True
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return any(_type_ok(value, h) for h in typing.get_args(hint))
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:  # TOML booleans are not numbers here
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        return isinstance(value, (tuple, list)) and all(_type_ok(v, item) for v in value)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def _type_name(hint: Any) -> str:
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        return "a list of " + {str: "strings", int: "integers", float: "numbers"}.get(item, _type_name(item))
    if isinstance(hint, types.UnionType):
        return " or ".join(_type_name(h) for h in typing.get_args(hint))
    names = {bool: "true/false", int: "an integer", float: "a number", str: "a string"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def check_types(cls: type, params: Mapping[str, Any], where: str) -> None:
    """Checks config values against the dataclass field types of ``cls``.

    TOML has types, and a wrong one must be an error, not a surprise: ``"0.2"``
    is not a number (comparing it fails on every document), ``"false"`` is a true
    string, ``true`` is not 1.0, ``199.5`` is not a character count.

    Raises:
        ConfigError: naming the key, the expected type and the value given.

    >>> check_types(dataclasses.make_dataclass("X", [("n", int)]), {"n": "3"}, "x")
    Traceback (most recent call last):
    ...
    filters.base.ConfigError: x: n must be an integer, got '3' (str)
    """
    hints = typing.get_type_hints(cls)
    for key, value in params.items():
        hint = hints.get(key)
        if hint is not None and not _type_ok(value, hint):
            if isinstance(value, tuple):  # the config's lists arrive as tuples
                value = list(value)
            raise ConfigError(f"{where}: {key} must be {_type_name(hint)}, got {value!r} ({type(value).__name__})")


def build_filter(name: str, params: Mapping[str, Any]) -> Filter:
    """Builds a registered step from its config entry.

    Raises:
        ConfigError: Unknown step name or unknown threshold key.

    >>> build_filter("length", {"min_chars": 10}).min_chars
    10
    """
    cls = REGISTRY.get(name)
    if cls is None:
        raise ConfigError(f"unknown filter {name!r}; known: {', '.join(sorted(REGISTRY))}")
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - fields)
    if unknown:
        raise ConfigError(
            f"filter {name!r}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(fields)) or 'none'}"
        )
    check_types(cls, params, f"filter {name!r}")
    try:
        return cls(**params)
    except (TypeError, ValueError, OverflowError) as exc:  # OverflowError: an integer no float holds
        raise ConfigError(f"filter {name!r}: {exc}") from exc
