"""Beam composition of furui: stages, IO, config, CLI and reporting.

This is the only package that imports ``apache_beam``; the logic it runs lives in
``filters/``, ``dedup/`` and the Beam-free modules here (``readers``, ``extract``).
"""
