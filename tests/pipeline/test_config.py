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
        (('favor = "balanced"', 'favor = "fast"'), "favor must be balanced, precision or recall, got 'fast'"),
        # Wrong TOML types: before, these ran and silently dropped or kept everything.
        (("min_ratio = 0.2", 'min_ratio = "0.2"'), "min_ratio must be a number, got '0.2'"),
        (("max_payload_bytes = 10_000_000", 'max_payload_bytes = "10MB"'), "max_payload_bytes must be an integer"),
        (("isolate = true", 'isolate = "false"'), "isolate must be true/false"),
        (("fast = false", "fast = 0"), "fast must be true/false"),
        (("exact = true", 'exact = "no"'), "exact must be true/false"),
        (('languages = ["ja"]', 'languages = "ja"'), "languages must be a list of strings"),
        (("min_score = 0.5", "min_score = true"), "min_score must be a number, got True"),
        (("max_char_run = 199", "max_char_run = 199.5"), "max_char_run must be an integer"),
        (("shard_bytes = 256_000_000", "shard_bytes = 0"), "shard_bytes"),
        (('compression = "zstd"', 'compression = "lz77"'), "not a Parquet codec"),
        (('compression = "zstd"', 'compression = "bz2"'), "not a Parquet codec"),  # pyarrow has it, Parquet not
        (("max_payload_bytes = 10_000_000", "max_payload_bytes = -1"), "max_payload_bytes must be > 0"),
        # inf/nan passed "> 0" and then failed in every worker (OverflowError in the poll).
        (("timeout_s = 10.0", "timeout_s = inf"), "timeout_s must be at least 0.1 and at most 600 seconds, got inf"),
        (("timeout_s = 10.0", "timeout_s = nan"), "timeout_s must be at least 0.1 and at most 600 seconds, got nan"),
        (("timeout_s = 10.0", "timeout_s = 1e12"), "timeout_s must be at least 0.1 and at most 600"),
        (("timeout_s = 10.0", "timeout_s = 601"), "timeout_s must be at least 0.1 and at most 600"),
        (("timeout_s = 10.0", "timeout_s = 5e-324"), "timeout_s must be at least 0.1 and at most 600 seconds, got 5e-324"),
        # A label lid.176 never predicts rejected every page as wrong_language.
        (('languages = ["ja"]', 'languages = ["jp"]'), r"'jp' \(did you mean 'ja'\?\) is not a label of lid.176"),
        (('languages = ["ja"]', 'languages = ["JA", "english"]'), "'JA' .*'english' .*are not labels of lid.176"),
        # The config is copied into the output and published: no credentials in it.
        (('description = "', 'description = "s3://AKIAXYZ:hunter2@bucket/x '),
         "output.description hold credentials"),
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


def test_site_boilerplate_must_come_before_tokenize_and_pii():
    """It rewrites the text: after tokenize or pii their counts would describe lines it removed."""
    base = 'config_version = 1\n[[filters]]\nname = "normalize"\n'
    sb, tok, pii = ('[[filters]]\nname = "site_boilerplate"\n', '[[filters]]\nname = "tokenize"\n',
                    '[[filters]]\nname = "pii"\n')
    with pytest.raises(ConfigError, match="'site_boilerplate' must come before 'tokenize' and 'pii'"):
        parse_config(base + tok + pii + sb)
    with pytest.raises(ConfigError, match="must come before 'pii':"):
        parse_config(base + pii + sb + tok)
    names = [s.name for s in parse_config(base + sb + tok + pii).steps]
    assert names == ["normalize", "site_boilerplate", "tokenize", "pii"]


def _patched(old: str, new: str) -> str:
    import re

    text, n = re.subn(old, new, default_config_text(), count=1, flags=re.M)
    assert n == 1, old
    return text


def test_right_types_still_load():
    text = _patched(r"^compression_level = .*\n", "").replace('compression = "zstd"', 'compression = "none"', 1)
    assert parse_config(text).output.compression == "none"
    # An integer where a number is expected is a number.
    assert parse_config(default_config_text().replace("min_score = 0.5", "min_score = 1", 1))


@pytest.mark.parametrize("text, message", [
    # A section written as a value meant every default (dedup on) without a word.
    ("dedup = false", "[dedup] must be a table of settings, got bool False"),
    ('io = "fast"', "[io] must be a table of settings, got str 'fast'"),
    ("[[extract]]\ntimeout_s = 5", "[extract] must be a table of settings, got list"),
    ("output = [1, 2]", "[output] must be a table of settings, got list [1, 2]"),
    ('[[filters]]\nname = ["length"]', "[[filters]] entry 1: name must be a string, got ['length']"),
    ("[dedup]\nverify_threshold = 1" + "0" * 400, "[dedup]: int too large to convert to float"),
    ("[dedup]\nmax_rounds = 100000", "dedup.max_rounds must be at most 64"),
    ("[dedup]\nngram = 9223372036854775807", "dedup.ngram must be at most 1,000"),
])
def test_config_shapes_that_crashed_or_were_ignored_are_one_error(text, message):
    with pytest.raises(ConfigError) as info:
        parse_config("config_version = 1\n" + text + "\n")
    assert message in str(info.value) and "\n" not in str(info.value)


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


# -- values that type-check but could never work (a review's findings) --------

@pytest.mark.parametrize("old, new, message", [
    (r"^min_ratio = .*$", "min_ratio = 20", "min_ratio must be a share between 0 and 1"),
    (r"^max_noun_ratio = .*$", "max_noun_ratio = 80", "max_noun_ratio must be a share"),
    (r"^max_top_2gram_ratio = .*$", "max_top_2gram_ratio = 20", "max_top_2gram_ratio must be a share"),
    (r"^max_special_ratio = .*$", "max_special_ratio = -0.1", "max_special_ratio must be a share"),
    (r"^max_char_run = .*$", "max_char_run = -1", "max_char_run must be at least 1"),
    (r"^max_bbs_matches = .*$", "max_bbs_matches = -1", "max_bbs_matches must be at least 0"),
    (r"^min_stopwords = .*$", "min_stopwords = 50", "above the number of distinct stopwords"),
    (r"^min_score = .*$", "min_score = 5", "min_score must be a share"),
    (r"^languages = .*$", "languages = []", "languages must name at least one language"),
    (r"^max_chars = 4000.*$", "max_chars = -4000", "max_chars must be at least 0"),
    (r"^max_compression_ratio = .*$", "max_compression_ratio = 0.1", "min_compression_ratio (0.3) is above"),
    (r"^max_avg_sentence_chars = .*$", "max_avg_sentence_chars = 10", "min_avg_sentence_chars (20.0) is above"),
    (r"^max_ng_ratio = .*$", "max_ng_ratio = 5", "max_ng_ratio must be a share"),
])
def test_thresholds_out_of_range_are_config_errors(old, new, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_config(_patched(old, new))


def test_compression_ratio_level_is_zlibs():
    from filters.compression import CompressionRatioFilter

    with pytest.raises(ValueError, match="level must be between -1 and 9"):
        CompressionRatioFilter(level=12)
    assert CompressionRatioFilter(level=9).level == 9


@pytest.mark.parametrize("value", ["true", "1.0"])
def test_config_version_must_be_the_integer_1(value):
    with pytest.raises(ConfigError, match="config_version must be 1"):
        parse_config(_patched(r"^config_version = 1$", f"config_version = {value}"))


@pytest.mark.parametrize("codec, level, error", [
    ("snappy", "3", "compression 'snappy' has no levels: remove compression_level"),
    ("none", "3", "compression 'none' has no levels"),
    ("gzip", "99", "compression_level for gzip must be between 1 and 9, got 99"),
    ("snappy", None, None),
    ("gzip", "6", None),
    ("zstd", None, None),
])
def test_parquet_compression_level_is_checked_against_the_codec(codec, level, error):
    text = _patched(r'^compression = "zstd".*$', f'compression = "{codec}"')
    text = text.replace("compression_level = 3", f"compression_level = {level}" if level else "", 1)
    if error:
        with pytest.raises(ConfigError, match=error):
            parse_config(text)
        return
    out = parse_config(text).output
    assert out.compression_level == {"snappy": None, "gzip": 6, "zstd": 3}[codec]
    # and pyarrow takes it: what the writer will do
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"a": ["x"]}), io.BytesIO(), compression=codec,
                   compression_level=out.compression_level)


def test_config_sha256_is_the_files_and_a_bom_is_allowed(tmp_path):
    import hashlib

    crlf = tmp_path / "crlf.toml"
    crlf.write_bytes(default_config_text().replace("\n", "\r\n").encode("utf-8"))
    assert load_config(str(crlf)).sha256 == hashlib.sha256(crlf.read_bytes()).hexdigest()
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + default_config_text().encode("utf-8"))
    assert load_config(str(bom)).sha256 == load_config().sha256


def test_keeper_given_as_a_string_names_the_type():
    with pytest.raises(ConfigError, match="keeper must be a list of strings, got 'id_asc'"):
        parse_config(_patched(r"^keeper = .*$", 'keeper = "id_asc"'))


def test_no_steps_says_so():
    with pytest.raises(ConfigError, match="no steps"):
        parse_config("config_version = 1\nfilters = []\n")


def test_a_config_without_steps_uses_the_default_steps():
    """A config may change one section without copying the step list."""
    cfg = parse_config('config_version = 1\n[output]\ndataset_name = "my-ja"\n')
    assert cfg.output.dataset_name == "my-ja"
    assert cfg.step_names() == load_config().step_names()
    assert cfg.steps == load_config().steps


def test_a_section_typo_is_named_before_the_steps():
    with pytest.raises(ConfigError, match=r"\[io\]: unknown key\(s\) reshufle"):
        parse_config("config_version = 1\nfilters = []\n[io]\nreshufle = true\n")


def test_list_of_wrong_items_is_reported_as_a_list():
    with pytest.raises(ConfigError, match=r"got \[1, 2\] \(list\)"):
        parse_config(_patched(r"^stopwords = \[.*$", "stopwords = [1, 2]"))


@pytest.mark.parametrize("resource", ["bad_regex", "huge_repeat_regex", "sjis_ng_words", "nested_ng_words",
                                      "dotted_dictionary"])
def test_unusable_resource_stops_the_run_before_the_output_is_touched(tmp_path, capsys, resource):
    """Resources that would fail in every worker (after the previous output was
    cleared), or with a traceback, are one line before anything is touched."""
    from pipeline.run import run

    if resource in ("bad_regex", "huge_repeat_regex"):
        (tmp_path / "re.txt").write_text("banned(\n" if resource == "bad_regex" else "a{4294967296}\n",
                                         encoding="utf-8")
        text = _patched(r"^regex_files = .*$", f'regex_files = ["{tmp_path / "re.txt"}"]')
        message = "is not a regular expression"
    elif resource == "nested_ng_words":  # each word a prefix of the next: 700 nested groups
        (tmp_path / "ng.txt").write_text("".join("あ" * k + "\n" for k in range(1, 700)), encoding="utf-8")
        text = _patched(r"^word_files = .*$", f'word_files = ["{tmp_path / "ng.txt"}"]')
        message = "cannot be compiled into one pattern"
    elif resource == "dotted_dictionary":  # no .dic ending: not a path, and no package name either
        text = _patched(r'^dict = "core"', 'dict = "/opt/sudachi/system.dict"')
        message = "not available: give a dictionary name"
    else:
        (tmp_path / "ng.txt").write_bytes("オンラインカジノ\n".encode("cp932"))
        text = _patched(r"^word_files = .*$", f'word_files = ["{tmp_path / "ng.txt"}"]')
        message = "is not UTF-8"
    cfg = tmp_path / "c.toml"
    cfg.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "_SUCCESS").write_text("")
    (out / "stats.json").write_text("{}")
    assert run(["--output", str(out), "--config", str(cfg), "--direct_running_mode=in_memory"]) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["_SUCCESS", "stats.json"]


def test_card_front_matter_lists_the_languages_kept():
    from pipeline.card import _front_matter, card_languages

    cfg = tomllib.loads(_patched(r'^languages = \["ja"\]', 'languages = ["ja", "ko"]'))
    assert card_languages(cfg) == ["ja", "ko"]
    assert _front_matter("x", "other", 10, card_languages(cfg))[1:4] == ["language:", "- ja", "- ko"]


def test_beam_endpoint_option_with_credentials_is_refused_without_echo(tmp_path, capsys):
    from pipeline.run import run

    rc = run(["--output", str(tmp_path / "out"), "--direct_running_mode=in_memory",
              "--s3_endpoint_url=http://minio:hunter2-secret@127.0.0.1:5099"])
    err = capsys.readouterr().err
    assert rc == 2 and "--s3_endpoint_url embeds credentials (http://127.0.0.1:5099)" in err
    assert "hunter2" not in err and not (tmp_path / "out").exists()


def test_output_directory_with_someone_elses_readme_is_refused(tmp_path, capsys):
    """The run ends by writing its dataset card as README.md: a user's own file there
    (not a previous run's card) must not be replaced."""
    from pipeline.run import run

    out = tmp_path / "mydir"
    out.mkdir()
    (out / "README.md").write_text("# my notes\n", encoding="utf-8")
    assert run(["--output", str(out), "--direct_running_mode=in_memory"]) == 2
    assert "holds a README.md that is not a furui dataset card" in capsys.readouterr().err
    assert (out / "README.md").read_text(encoding="utf-8") == "# my notes\n"


def test_empty_input_directory_is_named_as_such(tmp_path, capsys):
    from pipeline.run import run

    (tmp_path / "empty").mkdir()
    assert run([str(tmp_path / "empty"), "--output", str(tmp_path / "out"), "--direct_running_mode=in_memory"]) == 2
    assert f"no files in the input directory {tmp_path / 'empty'}" in capsys.readouterr().err


def test_config_shape_errors_say_what_to_write():
    with pytest.raises(ConfigError, match=r"filters must be a list of \[\[filters\]\] tables, got str 'normalize'"):
        parse_config('config_version = 1\nfilters = "normalize"\n')
    with pytest.raises(ConfigError, match="config_version is missing: every config starts with config_version = 1"):
        parse_config('[output]\ndataset_name = "x"\n')


def test_other_labels_are_allowed_with_another_model():
    """Only the bundled lid.176 is checked: a custom model may have other labels."""
    text = default_config_text().replace('languages = ["ja"]', 'languages = ["jpn_Jpan"]', 1)
    text = text.replace('model_path = ""', 'model_path = "/models/glotlid.bin"', 1)
    (step,) = [s for s in parse_config(text).steps if s.name == "langid"]
    assert step.languages == ("jpn_Jpan",)
