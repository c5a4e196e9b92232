import dataclasses
import tomllib

import pytest

from filters.base import ConfigError
from dedup.params import DedupParams
from filters.base import REGISTRY
from pipeline.config import default_config_text, load_config, parse_config


def test_default_config_loads_and_starts_with_normalize():
    cfg = load_config()
    names = cfg.step_names()
    assert names[0] == "normalize" and "langid" in names and "tokenize" in names
    assert len(cfg.sha256) == 64


def test_hash_changes_with_content():
    text = default_config_text()
    assert parse_config(text).sha256 != parse_config(text + "\n# changed\n").sha256


@pytest.mark.parametrize(
    "patch, message",
    [
        (("[io]", "[io]\nmax_payload_byte = 3"), "unknown key"),
        (("config_version = 1", "config_version = 99"), "config_version"),
        (("[output]", "[outptu]"), "unknown top-level"),
        (('name = "length"', 'name = "lenght"'), "unknown filter"),
        (("min_chars = 200", "min_char = 200"), "unknown key"),
        (('favor = "balanced"', 'favor = "fast"'), "favor"),
        # Wrong TOML types: before, these ran and silently dropped or kept everything.
        (("min_ratio = 0.2", 'min_ratio = "0.2"'), "min_ratio must be a number, got '0.2'"),
        (("max_payload_bytes = 10_000_000", 'max_payload_bytes = "10MB"'), "max_payload_bytes must be an integer"),
        (("isolate = true", 'isolate = "false"'), "isolate must be true/false"),
        (("exact = true", 'exact = "no"'), "exact must be true/false"),
        (('languages = ["ja"]', 'languages = "ja"'), "languages must be a list of strings"),
        (("min_score = 0.5", "min_score = true"), "min_score must be a number, got True"),
        (("max_char_run = 199", "max_char_run = 199.5"), "max_char_run must be an integer"),
        (("shard_bytes = 256_000_000", "shard_bytes = 0"), "shard_bytes"),
        (('compression = "zstd"', 'compression = "lz77"'), "not a Parquet codec"),
        (('compression = "zstd"', 'compression = "bz2"'), "not a Parquet codec"),  # pyarrow has it, Parquet not
        (("max_payload_bytes = 10_000_000", "max_payload_bytes = -1"), "max_payload_bytes must be > 0"),
    ],
)
def test_bad_config_is_one_clear_error(patch, message):
    text = default_config_text().replace(*patch, 1)
    with pytest.raises(ConfigError, match=message):
        parse_config(text)


def test_normalize_must_come_first():
    text = 'config_version = 1\n[[filters]]\nname = "length"\n[[filters]]\nname = "normalize"\n'
    with pytest.raises(ConfigError, match="first step"):
        parse_config(text)


def test_noun_ratio_needs_tokenize_before_it():
    base = 'config_version = 1\n[[filters]]\nname = "normalize"\n'
    with pytest.raises(ConfigError, match="tokenize"):
        parse_config(base + '[[filters]]\nname = "noun_ratio"\n[[filters]]\nname = "tokenize"\n')
    with pytest.raises(ConfigError, match="tokenize"):
        parse_config(base + '[[filters]]\nname = "noun_ratio"\n')
    parse_config(base + '[[filters]]\nname = "tokenize"\n[[filters]]\nname = "noun_ratio"\n')


def test_right_types_still_load():
    text = default_config_text().replace('compression = "zstd"', 'compression = "none"', 1)
    assert parse_config(text).output.compression == "none"
    # An integer where a number is expected is a number.
    assert parse_config(default_config_text().replace("min_score = 0.5", "min_score = 1", 1))


def test_step_listed_twice_is_an_error():
    text = 'config_version = 1\n[[filters]]\nname = "normalize"\n[[filters]]\nname = "normalize"\n'
    with pytest.raises(ConfigError, match="twice"):
        parse_config(text)


def test_unreadable_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(str(tmp_path / "missing.toml"))


def test_invalid_toml(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text("config_version = = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(str(p))


def test_bundled_config_shows_every_key_with_its_default():
    """The bundled TOML is the reference of every threshold: it lists each dataclass
    field of each step, and of [dedup], with exactly the class default."""
    data = tomllib.loads(default_config_text())
    for entry in data["filters"]:
        cls = REGISTRY[entry["name"]]
        params = {k: (tuple(v) if isinstance(v, list) else v) for k, v in entry.items() if k != "name"}
        assert set(params) == {f.name for f in dataclasses.fields(cls)}, entry["name"]
        assert cls(**params) == cls(), entry["name"]
    dedup = dict(data["dedup"], keeper=tuple(data["dedup"]["keeper"]))
    assert set(dedup) == {f.name for f in dataclasses.fields(DedupParams)}
    assert DedupParams(**dedup) == DedupParams()


def test_missing_dedup_section_means_defaults_not_off():
    """Every section left out takes its defaults; [dedup] must not be the one
    whose absence silently switches a pass off (documents would keep duplicates)."""
    text = 'config_version = 1\n[[filters]]\nname = "normalize"\n'
    cfg = parse_config(text)
    assert cfg.dedup == DedupParams()
    assert cfg.dedup.exact and cfg.dedup.near
    off = parse_config(text + "[dedup]\nexact = false\nnear = false\n")
    assert not off.dedup.exact and not off.dedup.near
