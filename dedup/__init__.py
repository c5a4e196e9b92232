"""Beam-free deduplication logic: shingling, MinHash, LSH banding, keeper order.

The Beam composite that wires these together lives in :mod:`pipeline.dedup`.
Nothing in this package imports ``apache_beam``.
"""
