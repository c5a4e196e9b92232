"""Configuration of the dedup stage (the ``[dedup]`` TOML section)."""

from __future__ import annotations

from dataclasses import dataclass

#: Keeper criteria understood by :func:`dedup.keeper.rank_key`.
KEEPER_CRITERIA = (
    "quality_desc",
    "quality_asc",
    "crawl_date_asc",
    "crawl_date_desc",
    "n_chars_desc",
    "n_chars_asc",
    "id_asc",
)


# Limits past which a value is a mistake, not a setting: each is far beyond what
# dedup needs, and each would otherwise fail (or build a huge graph) only in the job.
_MAXIMUM = {"ngram": 1_000, "num_perm": 8_192, "max_rounds": 64}
_WHY_MAXIMUM = {
    "ngram": "shingles of that many characters or words",
    "num_perm": "32-bit slots per document; 128 is the default",
    "max_rounds": "each round adds stages to the job; the default 12 covers chains far longer than any real cluster",
}


@dataclass(frozen=True)
class DedupParams:
    """Parameters of exact and near-duplicate removal.

    Built from the TOML ``[dedup]`` section as ``DedupParams(**section)``; an
    unknown key raises ``TypeError`` and an invalid value ``ValueError``.

    Attributes:
        exact: Drop documents whose text hashes equal another document's
            (xxh3-128 of the normalised text, across the whole run).
        near: Run MinHash-LSH near-duplicate detection and clustering.
        ngram: Shingle length, in characters (``tokenizer="char"``) or Sudachi
            words (``tokenizer="sudachi"``). 5 characters is the usual choice
            for Japanese (no spaces; 5-grams are rare enough to be informative
            and short enough that one edited character only touches 5 shingles).
        tokenizer: ``"char"`` (code points of the NFKC text, dakuten kept) or
            ``"sudachi"`` (surface forms of SudachiPy mode-C morphemes).
        num_perm: Signature length (number of MinHash values). 128 gives a
            Jaccard standard error of at most ``0.5/sqrt(128) = 0.044``.
        seed: Seed of the hash functions; equal seeds give equal signatures.
        method: ``"oph"`` (one-permutation hashing with optimal densification,
            vectorised over a batch: O(shingles + num_perm) per document) or
            ``"datasketch"`` (bit-identical to ``datasketch.MinHash`` with the
            same ``num_perm``/``seed``; O(shingles * num_perm), ~100x slower than
            ``"oph"``, bench/RESULTS-dedup.md).
        bands: Number of LSH bands ``b``.
        rows: Rows per band ``r``; ``bands * rows`` must equal ``num_perm``.
            The default 16 x 8 puts the S-curve midpoint ``(1/b)^(1/r)`` at
            0.707, so a pair at Jaccard 0.8 becomes a candidate with
            probability ``1-(1-0.8^8)^16 = 0.947`` (0.994 at 0.85) while a pair
            at 0.5 does with 0.061 (then removed by ``verify_threshold``).
        verify_threshold: Candidate edges whose full-signature Jaccard estimate
            is below this are dropped before clustering (0 disables the check
            and its two small shuffles). 0.7 is 3 standard errors below 0.8 at
            ``num_perm=128``.
        max_bucket_size: Band buckets with more members than this are
            considered boilerplate collisions (empty/templated text): their
            members still get star edges (verified like any other), and the
            bucket is counted (``bucket.oversized``). Time and memory stay
            linear in the bucket size either way.
        max_rounds: Upper bound on large-star/small-star rounds unrolled in the
            Beam graph. Convergence takes O(log n) rounds; 12 covers chains far
            longer than any real duplicate cluster. Components not converged by
            then are split (never wrongly merged) and counted.
        keeper: Order deciding which member of a cluster is kept; the first
            document in this order wins. ``id_asc`` is always appended as the
            final tie-breaker so the choice is deterministic.
        batch_size: Documents per vectorised signature batch (the batch's texts
            are held once, at most ~4 million characters of them whatever the
            count; the hashing buffers are capped at ~768 KB per call).
    """

    exact: bool = True
    near: bool = True
    ngram: int = 5
    tokenizer: str = "char"
    num_perm: int = 128
    seed: int = 1
    method: str = "oph"
    bands: int = 16
    rows: int = 8
    verify_threshold: float = 0.7
    max_bucket_size: int = 10_000
    max_rounds: int = 12
    keeper: tuple[str, ...] = ("quality_desc", "crawl_date_asc", "id_asc")
    batch_size: int = 256

    def __post_init__(self) -> None:
        """Validate the combination of values; raise ``ValueError`` if invalid."""
        if isinstance(self.keeper, list):
            # TOML arrays arrive as lists; freeze them so the dataclass stays hashable.
            object.__setattr__(self, "keeper", tuple(self.keeper))
        for name in ("ngram", "num_perm", "bands", "rows", "max_bucket_size", "max_rounds", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"dedup.{name} must be a positive integer, got {value!r}")
            if value > _MAXIMUM.get(name, value):
                raise ValueError(f"dedup.{name} must be at most {_MAXIMUM[name]:,}, got {value:,} "
                                 f"({_WHY_MAXIMUM[name]})")
        if self.tokenizer not in ("char", "sudachi"):
            raise ValueError(f"dedup.tokenizer must be 'char' or 'sudachi', got {self.tokenizer!r}")
        if self.method not in ("oph", "datasketch"):
            raise ValueError(f"dedup.method must be 'oph' or 'datasketch', got {self.method!r}")
        if self.bands * self.rows != self.num_perm:
            raise ValueError(
                f"dedup.bands * dedup.rows must equal dedup.num_perm: "
                f"{self.bands} * {self.rows} = {self.bands * self.rows} != {self.num_perm}"
            )
        if not 0.0 <= float(self.verify_threshold) <= 1.0:
            raise ValueError(f"dedup.verify_threshold must be in [0, 1], got {self.verify_threshold!r}")
        if not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise ValueError(f"dedup.seed must be an integer in [0, 2**32), got {self.seed!r}")
        if not self.keeper:
            raise ValueError("dedup.keeper must name at least one criterion")
        for criterion in self.keeper:
            if criterion not in KEEPER_CRITERIA:
                raise ValueError(
                    f"dedup.keeper: unknown criterion {criterion!r}; expected one of {KEEPER_CRITERIA}"
                )
        if len(set(self.keeper)) != len(self.keeper):
            raise ValueError(f"dedup.keeper lists a criterion twice: {self.keeper!r}")

    @property
    def threshold(self) -> float:
        """Jaccard similarity at the midpoint of the LSH S-curve, ``(1/b)^(1/r)``.

        >>> round(DedupParams().threshold, 3)
        0.707
        """
        return (1.0 / self.bands) ** (1.0 / self.rows)

    def candidate_probability(self, jaccard: float) -> float:
        """Probability that a pair with this Jaccard shares at least one band.

        Args:
            jaccard: True Jaccard similarity of the two shingle sets, in [0, 1].

        Returns:
            ``1 - (1 - j^r)^b`` (assumes independent MinHash values).

        >>> p = DedupParams()
        >>> round(p.candidate_probability(0.8), 3), round(p.candidate_probability(0.5), 3)
        (0.947, 0.061)
        """
        return 1.0 - (1.0 - jaccard**self.rows) ** self.bands
