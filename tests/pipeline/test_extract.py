"""Charset decoding and trafilatura extraction, without Beam."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import extract as extract_module
from pipeline.extract import (
    ExtractionTimeout,
    ExtractOptions,
    Extractor,
    codec_for,
    decode_html,
    declared_charsets,
    looks_binary,
)
from tests.conftest import shared

ARTICLE = (
    "<html><head><title>記事</title></head><body>"
    "<nav><a href='/'>ホーム</a> | <a href='/news'>ニュース</a> | <a href='/about'>会社概要</a></nav>"
    "<article><h1>商店街の夏祭り</h1>"
    "<p>今年の夏祭りは三年ぶりに通常の規模で開かれ、商店街には朝から多くの家族連れが訪れた。</p>"
    "<p>実行委員会によると、来場者は二日間で約二万人に上り、地元の飲食店や雑貨店の売り上げも例年を大きく上回ったという。</p>"
    "<p>夜には盆踊りが行われ、子どもから高齢者までが輪になって踊り、久しぶりのにぎわいを楽しんだ。</p>"
    "</article><footer>Copyright 2024 Example News. All rights reserved.</footer></body></html>"
)


def test_declared_order_bom_header_meta():
    payload = b"\xef\xbb\xbf<meta charset='euc-jp'>"
    assert declared_charsets(payload, "text/html; charset=Shift_JIS") == ["utf-8", "Shift_JIS", "euc-jp"]


def test_whatwg_label_mapping():
    assert codec_for("x-sjis") == "cp932"
    assert codec_for("ISO-8859-1") == "cp1252"
    assert codec_for("ISO-2022-JP") == "iso2022_jp_2"


@pytest.mark.parametrize("codec", ["cp932", "euc_jp", "iso2022_jp", "utf-8"])
def test_undeclared_japanese_is_detected(codec):
    text = "<p>今日はとても良い天気ですね。散歩に行きましょう。</p>"
    decoded, used = decode_html(text.encode(codec))
    assert decoded == text, used


def test_wrong_declaration_is_distrusted():
    text = "<p>日本語のページです。ひらがなとカタカナ。</p>"
    decoded, used = decode_html(text.encode("euc_jp"), "text/html; charset=utf-8")
    assert decoded == text and used == "euc_jp"


def test_one_bad_byte_keeps_the_declared_charset():
    """A Shift_JIS page with one byte no Shift_JIS has failed the declaration's
    strict decode and every detector, and was decoded as UTF-8 with replacement:
    the whole page garbage. The declared charset is used with replacement when it
    costs at most one character in a thousand."""
    text = "<meta charset=Shift_JIS><p>" + "今年の夏祭りは三年ぶりに通常の規模で開かれた。" * 10 + "</p>"
    payload = text.encode("cp932").replace(b"</p>", b"\x81 </p>")
    decoded, used = decode_html(payload, "text/html; charset=Shift_JIS")
    assert used == "cp932" and decoded.count("\ufffd") == 1 and "今年の夏祭り" in decoded
    # Mostly undecodable bytes under that label are not that charset: detection decides.
    assert decode_html(bytes(range(0x80, 0x100)) * 20, "text/html; charset=Shift_JIS")[1] != "cp932"


@pytest.mark.parametrize("label", ["utf-16", "UTF-16LE", "cp037"])
def test_a_meta_charset_that_cannot_describe_itself_means_utf8(label):
    """A <meta> readable as ASCII is not in UTF-16 or EBCDIC (WHATWG reads such a
    declaration as UTF-8). UTF-16 decodes any even-length bytes, so the UTF-8 page
    became CJK soup and was rejected as no_text."""
    page = f'<html><head><meta charset="{label}"></head><body><p>日本語の本文です。</p></body></html>'.encode()
    page += b" " * (len(page) % 2)
    assert decode_html(page) == (page.decode(), "utf-8")
    # Declared in the HTTP header (or by a BOM), UTF-16 stays UTF-16.
    assert decode_html("<p>本文</p>".encode("utf-16-le"), "text/html; charset=utf-16le")[1] != "utf-8"


def test_detection_never_picks_a_codec_a_page_cannot_be_in():
    """charset-normalizer proposed utf_7, which decodes "+2AA-" to a lone surrogate;
    lxml then dropped the page from there on, with no reject."""
    ja = "".join(f"&#{ord(c)};" for c in "日本語の本文です。")
    payload = (f"+/v8 <p>First {ja}</p><p>a +2AA- b</p><p>Last {ja}</p>").encode() + b"<p>" + b"x " * 100_000 + b"\x81</p>"
    text, codec = decode_html(payload)
    assert codec_for(codec) == codec and codec != "utf-7"
    text.encode("utf-8")  # no lone surrogate


@pytest.mark.parametrize("ref", ["&#12;", "&#1;", "&#x0;", "&#xFFFE;", "&#xFFFF;", "&#1114112;"])
def test_a_reference_to_a_character_xml_refuses_costs_that_character_not_the_page(ref):
    """libxml2 put the character into the tree, trafilatura failed to copy it and
    dropped the page as "no text"; the same raw characters were harmless."""
    html = ARTICLE.replace("訪れた。", "訪れた。" + ref)
    text = extract_module.extract_main_text(html, "http://example.jp/", ExtractOptions())
    assert "来場者は二日間で約二万人" in text and "&#" not in text


def test_cp932_extensions_decode():
    # ① and NEC special characters exist in CP932, not in strict Shift_JIS.
    text = "<meta charset=Shift_JIS>①②③ 髙橋さん"
    decoded, used = decode_html(text.encode("cp932"))
    assert decoded == text and used == "cp932"


def test_binary_detection():
    assert looks_binary("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert not looks_binary(ARTICLE)
    # One stray NUL in a text page is garbage in it, not a binary file.
    assert not looks_binary(ARTICLE.replace("<title>記事", "<title>記\x00事"))
    assert looks_binary("\x00".join(ARTICLE))  # UTF-16 read as 8-bit text


def _unclosed(n: int) -> str:
    """Old hand-written pages: each paragraph after a <div> that is never closed."""
    paras = "".join(f"<div><p>{i}番目の段落です。商店街の夏祭りについての記事が続きます。</p>" for i in range(n))
    return f"<html><head><title>記事</title></head><body>{paras}</body></html>"


@pytest.mark.parametrize("isolate", [True, False])
def test_deeply_nested_pages_are_read_whole_or_rejected_never_cut(isolate):
    """libxml2 stops at depth 256 by default and drops the rest of the page without
    an error: 400 unclosed <div>s kept only 253 paragraphs. With huge_tree the
    limit is 2,048; deeper pages are a too_deep reject, not a page cut short."""
    from pipeline.extract import TooDeep

    ex = Extractor(ExtractOptions(), timeout_s=60, isolate=isolate)
    try:
        text = ex.extract(_unclosed(400), "")
        assert "0番目の段落" in text and "399番目の段落" in text
        with pytest.raises(TooDeep):
            ex.extract(_unclosed(2100), "")
        # Within the parser's depth but past trafilatura's recursion (nested lists).
        lists = "<ul><li>" * 800 + "商店街の夏祭りについての記事です。" * 20 + "</li></ul>" * 800
        with pytest.raises(TooDeep):
            ex.extract(f"<html><body>{lists}</body></html>", "")
        assert "盆踊り" in ex.extract(ARTICLE, "")  # the same extractor goes on
    finally:
        ex.close()


@pytest.mark.slow
def test_chardet_japanese_pages_decode_without_replacement():
    """>= 95% of real Shift_JIS / EUC-JP / ISO-2022-JP pages decode without U+FFFD."""
    root = shared("encoding", "chardet-tests")
    files = [p for d in ("SHIFT_JIS", "EUC-JP", "iso-2022-jp", "CP932") for p in sorted((root / d).iterdir())]
    clean = [p for p in files if "\ufffd" not in decode_html(p.read_bytes())[0]]
    assert len(files) >= 50
    assert len(clean) / len(files) >= 0.95, [p.name for p in files if p not in clean]


WRAPPED = (
    "<html><head><title>mod_cgi</title></head><body><article><h1>概要</h1>"
    "<p>ハンドラ cgi-script\nが指定されているファイルは CGI スクリプトとして扱われ、\n"
    "    サーバにより実行され、その出力がクライアントに返されます。\n"
    "ファイルは、<code>AddHandler</code> ディレクティブに\n指定された拡張子を名前に含むか、\n"
    "<a href='x'>ScriptAlias</a>\nディレクトリに存在することによりこのハンドラになります。</p>"
    "<p>改行要素の後は<br>次の行になり、English text\nwrapped in the source joins with a space.</p>"
    "<pre>$ ls\n一行目\n二行目</pre></article></body></html>"
)


@pytest.mark.parametrize("isolate", [True, False])
def test_lines_the_source_wraps_are_joined_as_a_browser_shows_them(isolate):
    ex = Extractor(ExtractOptions(), timeout_s=30, isolate=isolate)
    try:
        lines = ex.extract(WRAPPED).split("\n")
    finally:
        ex.close()
    # Between two Japanese characters a break disappears; next to a Latin one it is
    # a space, as a browser shows it (CSS Text 3), also across inline elements.
    assert "ハンドラ cgi-script が指定されているファイルは CGI スクリプトとして扱われ、サーバにより実行され、"\
           "その出力がクライアントに返されます。ファイルは、AddHandler ディレクティブに指定された拡張子を名前に含むか、"\
           " ScriptAlias ディレクトリに存在することによりこのハンドラになります。" in lines
    # <br> still ends a line; wrapped English gets a space; <pre> keeps its lines.
    assert "改行要素の後は" in lines and "次の行になり、English text wrapped in the source joins with a space." in lines
    assert lines[-3:] == ["$ ls", "一行目", "二行目"]
    # Off: trafilatura's text as it is, the source's breaks included.
    raw = Extractor(ExtractOptions(join_wrapped_lines=False), timeout_s=30, isolate=False)
    assert "ハンドラ cgi-script" in raw.extract(WRAPPED).split("\n")


# A page whose only text is a list in <nav>: trafilatura's own extraction keeps the
# items as lines; its readability fallback (which it runs on every page unless
# ``fast``) finds the list as the page's body and keeps the items' bullets.
NAV_ONLY = ("<html><body><nav><ul>" + "".join(
    f"<li>これは本文の段落です。ウェブから集めた日本語の文章で、十分な長さがあります。{i}</li>" for i in range(6))
    + "</ul></nav></body></html>")


@pytest.mark.parametrize("isolate", [False, True])
def test_fast_skips_trafilaturas_fallback_extractors(isolate):
    """``[extract] fast`` reaches trafilatura, in process and in the child."""
    slow = Extractor(ExtractOptions(), timeout_s=30, isolate=isolate)
    fast = Extractor(ExtractOptions(fast=True), timeout_s=30, isolate=isolate)
    try:
        with_fallback, without = slow.extract(NAV_ONLY).split("\n"), fast.extract(NAV_ONLY).split("\n")
    finally:
        slow.close()
        fast.close()
    assert len(with_fallback) == len(without) == 6
    assert all(line.startswith("- これは本文") for line in with_fallback)
    assert all(line.startswith("これは本文") for line in without)


@pytest.mark.parametrize("html, want", [
    # Inline edges: judged by the characters across the tag.
    ("<p>Hello<span>\nworld</span> again</p>", "Hello world again"),
    ("<p>Click <a href='/x'>here\n</a>to continue</p>", "Click here to continue"),
    ("<p>See<a href='/x'>\n  the manual\n</a>for details</p>", "See the manual for details"),
    ("<p>日本<span>\n語</span>\nの文</p>", "日本語の文"),
    # An element without text between: a break next to Latin is kept, never a space
    # that trafilatura could drop; between wide characters it is joined.
    ("<p>費用）\n<a href='/x'><img src='a.gif'></a>\neBANK の口座</p>", "費用）\n\neBANK の口座"),
    ("<p>費用）\n<a href='/x'><img src='a.gif'>eBANK</a>の口座</p>", "費用） eBANKの口座"),
    ("<p>費用\n<a href='/x'><img src='a.gif'></a>\nの口座</p>", "費用の口座"),
    # Block edges stay as they are: trafilatura may separate items by them.
    ("<ul><li>set <code>X</code> to zero\n</li><li>\nset Y</li></ul>", "set X to zero\n\nset Y"),
    # trafilatura drops <time>/<label> with their text: a neighbour inside is unknown.
    ("<p>Released 2020<time>年</time>\n版です</p>", "Released 2020年\n版です"),
    # Text lxml would refuse to take back (a control character) is left as it is,
    # not emptied; a node of breaks and a form feed only is no crash.
    ("<p><b>x</b>alpha&#12;beta\ngamma</p>", "xalpha\x0cbeta\ngamma"),
    ("<p>見出し<b>x</b>&#12;\n<i>y</i></p>", "見出しx\x0c\ny"),
    # A long run of spaces before a break (searched from the run's start only).
    ("<p>x" + " " * 40_000 + "y\nz</p>", "x" + " " * 40_000 + "y z"),
    # And a long run of line breaks (it took 4.5 CPU-s for 20,000, quadratic; this
    # one took ~40 s, and as a page a timeout reject).
    ("<p>Some text" + "\n " * 60_000 + "more text.</p>", "Some text more text."),
])
def test_wrapped_line_edges(html, want):
    import signal

    from lxml.html import fromstring

    from pipeline.extract import _JOINED, join_wrapped_lines

    def quadratic(*_):
        raise TimeoutError("join_wrapped_lines took > 20 s: a regex is trying every position of a run")

    tree = fromstring(f"<div>{html}</div>")
    old = signal.signal(signal.SIGALRM, quadratic)
    signal.alarm(20)
    try:
        join_wrapped_lines(tree)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert tree.text_content().replace(_JOINED, "") == want


def test_real_list_items_and_blocks_stay_apart():
    """Block edges are left alone: the list items and warning boxes of the Apache
    manual are separate lines with or without the join."""
    root = shared("html", "debian-docs", "apache2-doc", "usr", "share", "doc", "apache2-doc", "manual")
    ex = Extractor(ExtractOptions(), timeout_s=60, isolate=False)
    worker = ex.extract(decode_html((root / "en" / "mod" / "worker.html").read_bytes())[0])
    assert "MaxConnectionsPerChild to zero\n" in worker and "to zeroMax" not in worker
    dns = ex.extract(decode_html((root / "ja" / "dns-caveats.html").read_bytes())[0])
    assert "VirtualHost で IP アドレスを使用する。\n" in dns and "使用する。Listen" not in dns
    core = ex.extract(decode_html((root / "en" / "mod" / "core.html").read_bytes())[0])
    assert "to the Listen directive.\n" in core and "directive.Define" not in core


def test_real_wrapped_pages_are_joined_and_keep_the_same_content():
    """Debian's Apache manual wraps paragraphs in its source (Japanese pages, and the
    English pages of the same folder). Joining them leaves trafilatura's choice of
    content unchanged on every page (a break becomes one character until it is done),
    and removes most breaks between two Japanese characters: those left are
    headings, table cells and list items."""
    import re

    root = shared("html", "debian-docs", "apache2-doc", "usr", "share", "doc", "apache2-doc", "manual", "ja")
    pages = sorted(root.rglob("*.html"))
    assert len(pages) >= 200
    between_kana_kanji = re.compile(r"[\u3041-\u30ff\u4e00-\u9fff]\n[\u3041-\u30ff\u4e00-\u9fff]")
    raw_ex = Extractor(ExtractOptions(join_wrapped_lines=False), timeout_s=60, isolate=False)
    joined_ex = Extractor(ExtractOptions(), timeout_s=60, isolate=False)
    before = after = 0
    for page in pages:
        html = decode_html(page.read_bytes())[0]
        raw, text = raw_ex.extract(html), joined_ex.extract(html)
        assert re.sub(r"\s", "", raw) == re.sub(r"\s", "", text), page.name
        before += len(between_kana_kanji.findall(raw))
        after += len(between_kana_kanji.findall(text))
        if page.name == "mod_cgi.html" and page.parent.name == "mod":
            assert "ハンドラ cgi-script が指定されているファイルは CGI スクリプトとして扱われ、サーバにより実行され、" \
                   "その出力がクライアントに返されます。ファイルは、AddHandler ディレクティブに指定された" in text
    assert before >= 50 and after <= before / 4, (before, after)


@pytest.mark.parametrize("isolate", [True, False])
def test_extraction_keeps_article_drops_boilerplate(isolate):
    ex = Extractor(ExtractOptions(), timeout_s=30, isolate=isolate)
    try:
        text = ex.extract(ARTICLE, "https://example.jp/news/1")
    finally:
        ex.close()
    assert "盆踊り" in text and "商店街" in text
    assert "Copyright" not in text and "会社概要" not in text


def slow_page() -> str:
    """A page trafilatura needs ~1.3 s for (20,000 distinct paragraphs): a time
    limit of a few ms must fire on it even when the test process is descheduled
    between sending the page and waiting (a repeated article takes only ~5 ms,
    which a loaded machine can spend before the wait starts)."""
    paragraphs = "".join(f"<p>段落{i}は本文の一部で、商店街の話が続きます。</p>" for i in range(20000))
    return ARTICLE.replace("</article>", paragraphs + "</article>")


def test_timeout_kills_and_recovers():
    ex = Extractor(ExtractOptions(), timeout_s=0.02, isolate=True)
    try:
        ex.extract(ARTICLE)  # warm up: start the child and import trafilatura
    except ExtractionTimeout:
        pass
    with pytest.raises(ExtractionTimeout):
        ex.extract(slow_page())
    ex.timeout_s = 30
    t0 = time.monotonic()
    assert "盆踊り" in ex.extract(ARTICLE)  # a fresh child took over
    assert time.monotonic() - t0 < 30
    ex.close()


def test_a_restart_after_a_timeout_is_not_charged_to_the_next_page():
    """The time limit covers the page only: a fresh child (after a timeout killed
    the last one) imports trafilatura before the next page's clock starts.
    Before, the next page paid the ~0.3 s start-up, and with a tight limit every
    page after one timeout timed out too. 0.15 s is ~30x this article's time."""
    ex = Extractor(ExtractOptions(), timeout_s=0.15, isolate=True)
    huge = slow_page()
    try:
        assert "盆踊り" in ex.extract(ARTICLE)  # the first start is not charged either
        for _ in range(3):
            with pytest.raises(ExtractionTimeout):
                ex.extract(huge)
            assert not ex.alive
            assert "盆踊り" in ex.extract(ARTICLE)
    finally:
        ex.close()


def test_extraction_dependencies_are_installed():
    """trafilatura imports lxml.html.clean (a separate package since lxml 5.2): a
    missing dependency must fail at start-up, not reject every page."""
    from pipeline.extract import check_extraction_works

    check_extraction_works(ExtractOptions())  # raises ExtractionUnavailable if broken
    import lxml_html_clean  # noqa: F401

    # The pipeline probes through the isolated child (the worker never imports trafilatura).
    ex = Extractor(ExtractOptions(), timeout_s=60)
    try:
        check_extraction_works(ExtractOptions(), ex)
        assert ex.alive  # the probe started the child
    finally:
        ex.close()


def _fake_trafilatura(tmp_path, monkeypatch, source: str) -> None:
    """Puts a stand-in ``trafilatura`` module first on the path that spawned
    extraction children inherit: a broken installation, in a real child process."""
    (tmp_path / "trafilatura.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))


@pytest.mark.parametrize("source, match", [
    ("raise ImportError(\"No module named 'lxml_html_clean' (test)\")\n", "lxml_html_clean"),
    # An ImportError subclass under another name is a broken installation too.
    ("import importlib.metadata\nraise importlib.metadata.PackageNotFoundError('lxml-html-clean')\n",
     "PackageNotFoundError"),
    # A child that dies on the tiny probe page twice would die on every page.
    ("import os\nos._exit(3)\n", "dies at start-up"),
])
def test_a_broken_child_fails_at_start_up(tmp_path, monkeypatch, source, match):
    from pipeline.extract import ExtractionUnavailable, check_extraction_works

    _fake_trafilatura(tmp_path, monkeypatch, source)
    ex = Extractor(ExtractOptions(), timeout_s=60)
    try:
        with pytest.raises(ExtractionUnavailable, match=match):
            check_extraction_works(ExtractOptions(), ex)
    finally:
        ex.close()


def test_a_probe_page_error_is_not_hidden(tmp_path, monkeypatch):
    from pipeline.extract import check_extraction_works

    _fake_trafilatura(tmp_path, monkeypatch, "def extract(*args, **kwargs):\n    raise ValueError('odd page')\n")
    ex = Extractor(ExtractOptions(), timeout_s=60)
    try:
        with pytest.raises(RuntimeError, match="ValueError: odd page"):
            check_extraction_works(ExtractOptions(), ex)
    finally:
        ex.close()


def test_a_failed_probe_stops_its_child_and_a_retried_setup_probes_again(tmp_path, monkeypatch):
    from pipeline.extract import ExtractionUnavailable
    from pipeline.stages import _ExtractFn

    _fake_trafilatura(tmp_path, monkeypatch, "raise ImportError(\"No module named 'lxml_html_clean' (test)\")\n")
    started = []
    real_popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(subprocess, "Popen", recording_popen)
    fn = _ExtractFn(ExtractOptions(), 60.0, True)
    for _ in range(2):  # Beam may call setup() again on the same instance
        with pytest.raises(ExtractionUnavailable, match="lxml_html_clean"):
            fn.setup()
        assert fn.extractor is None
    # Beam skips teardown() after a failed setup(): the probe's children must already
    # be gone (killed and reaped), one per setup.
    assert len(started) == 2
    assert all(p.returncode is not None for p in started)


HEAVY_MAIN = """
import sys
import apache_beam  # what a Beam SDK worker's __main__ (sdk_worker_main) imports
from pipeline.extract import Extractor, ExtractOptions

def beam_mapped(pid):
    # Beam's compiled modules (e.g. apache_beam/coders/coder_impl.*.so) mapped in.
    with open(f"/proc/{pid}/maps") as fh:
        return any("/apache_beam/" in line and line.rstrip().endswith(".so") for line in fh)

if __name__ == "__main__":
    ex = Extractor(ExtractOptions(), timeout_s=60)
    text = ex.extract("<html><body><article><p>本文です。</p></article></body></html>")
    print(text, beam_mapped("self"), beam_mapped(ex._proc.pid))
    ex.close()
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs /proc")
def test_the_child_does_not_import_the_parents_main_module(tmp_path):
    """A multiprocessing spawn child re-runs the parent's __main__ module; in a Beam
    SDK worker that is Beam's harness, so every child start paid ``import
    apache_beam`` (~0.9 s, ~100 MB). The extraction child is a fresh interpreter:
    Beam's compiled modules are mapped in the parent, not in the child."""
    script = tmp_path / "heavy_main.py"
    script.write_text(HEAVY_MAIN)
    repo = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": repo}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["本文です。", "True", "False"]


def test_the_spawn_child_used_off_posix_still_works(monkeypatch):
    """Where a file descriptor cannot be handed to a child (Windows), the child is
    a multiprocessing spawn child: same answers, timeouts and restarts."""
    from pipeline import extract

    monkeypatch.setattr(extract, "_POSIX", False)
    ex = Extractor(ExtractOptions(), timeout_s=60)
    try:
        assert "盆踊り" in ex.extract(ARTICLE)
        assert ex.alive and not isinstance(ex._proc, subprocess.Popen)
        ex.timeout_s = 0.001
        with pytest.raises(ExtractionTimeout):
            ex.extract(slow_page())
        assert not ex.alive
        ex.timeout_s = 60
        assert "盆踊り" in ex.extract(ARTICLE)  # a fresh child took over
    finally:
        ex.close()


ORPHAN_PARENT = """
import sys, time
from pipeline.extract import Extractor, ExtractOptions
ex = Extractor(ExtractOptions(), timeout_s=600)
ex._start_ready()  # the stand-in answers the warm-up page; it spins on the one below
print(ex._proc.pid, flush=True)
ex._conn.send(("<html><body><p>spin</p></body></html>", ""))  # trafilatura stand-in spins on it
time.sleep(600)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_an_orphaned_child_exits(tmp_path):
    """A worker killed while its child is stuck on a page (SIGKILL, out of memory:
    no clean close) must not leave the child running: it exits once re-parented."""
    (tmp_path / "trafilatura.py").write_text(
        "def extract(html, *args, **kwargs):\n    while 'spin' in html:\n        pass\n    return ''\n")
    repo = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), repo])}
    parent = subprocess.Popen([sys.executable, "-c", ORPHAN_PARENT], stdout=subprocess.PIPE, text=True, env=env)
    try:
        child = int(parent.stdout.readline())
        deadline = time.monotonic() + 30
        while _cpu_ticks(child) < 20:  # until the child spins in the stand-in extract()
            assert time.monotonic() < deadline, "the child never started extracting"
            time.sleep(0.05)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if not _running(child):
            return
        time.sleep(0.1)
    os.kill(child, 9)
    raise AssertionError("the orphaned extraction child kept running")


def _cpu_ticks(pid: int) -> int:
    """User + system CPU time of ``pid`` in clock ticks (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (an exited child that nobody reaped yet does not)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_wet_text_is_decoded_with_the_charset_its_record_declares():
    """A WET conversion record declared Shift_JIS was decoded as UTF-8 (replacement
    characters, then a wrong_language reject); its Content-Type now decides."""
    from pipeline.stages import _ExtractFn
    from schemas.records import Record

    text = "今年の夏祭りは三年ぶりに通常の規模で開かれた。"
    fn = _ExtractFn(ExtractOptions(), 10.0, isolate=False)
    for content_type, payload, charset in [("text/plain; charset=Shift_JIS", text.encode("cp932"), "cp932"),
                                           ("text/plain", text.encode(), "utf-8")]:
        rec = Record(id="r", url="", source="x.wet", crawl_date="", content_type=content_type,
                     payload=payload, kind="text")
        assert fn._extract(rec) == (text, charset, None)


_STAND_IN = """
import time

def _text(html):
    if isinstance(html, str):
        return html
    import lxml.html
    return lxml.html.tostring(html, encoding="unicode")

def extract(html, *args, **kwargs):
    page = _text(html)
    if "nap" in page:      # waits without using the CPU (a loaded machine looks the same to the page)
        time.sleep(float(page.split("nap:")[1].split("<")[0]))
        return "寝た"
    if "spin" in page:     # uses the CPU until stopped
        while True:
            pass
    return "本文"
"""


@pytest.mark.skipif(not extract_module.CPU_LIMIT, reason="needs setitimer (POSIX)")
def test_the_time_limit_is_cpu_time_so_a_slow_machine_does_not_change_the_verdict(tmp_path, monkeypatch):
    """A page's verdict must not depend on how loaded the worker is (retries and
    reruns must reject the same pages): the limit counts the child's CPU time. A
    page that waits 0.8 s without using the CPU passes a 0.3 s limit; one that
    spins is stopped after 0.3 s of CPU, long before the wall-clock backstop."""
    _fake_trafilatura(tmp_path, monkeypatch, _STAND_IN)
    ex = Extractor(ExtractOptions(), timeout_s=0.3, isolate=True)
    try:
        assert ex.extract("<html><body><p>nap:0.8</p></body></html>") == "寝た"
        t0 = time.monotonic()
        with pytest.raises(ExtractionTimeout, match=r"exceeded 0.3s of CPU time"):
            ex.extract("<html><body><p>spin</p></body></html>")
        assert time.monotonic() - t0 < extract_module.wall_backstop_s(0.3) / 2
        assert not ex.alive  # the interrupted child is replaced
        assert ex.extract("<html><body><p>ok</p></body></html>") == "本文"
    finally:
        ex.close()


@pytest.mark.skipif(not extract_module.CPU_LIMIT, reason="needs setitimer (POSIX)")
def test_a_page_that_never_lets_the_cpu_timer_fire_is_stopped_by_the_wall_clock_backstop(tmp_path, monkeypatch):
    """The CPU timer's handler runs between Python bytecodes; code that blocks
    without returning to Python is stopped by the backstop (3 x limit + 10 s)."""
    _fake_trafilatura(tmp_path, monkeypatch, _STAND_IN)
    ex = Extractor(ExtractOptions(), timeout_s=0.05, isolate=True)
    try:
        t0 = time.monotonic()
        with pytest.raises(ExtractionTimeout, match=r"exceeded 10.15s \(wall clock\)"):
            ex.extract("<html><body><p>nap:60</p></body></html>")
        assert 10 <= time.monotonic() - t0 < 30
        assert not ex.alive
    finally:
        ex.close()


@pytest.mark.skipif(not extract_module.CPU_LIMIT, reason="needs setitimer (POSIX)")
def test_a_page_over_its_cpu_limit_is_a_timeout_however_the_extractor_ends(monkeypatch):
    """The verdict comes from the timer, not from the handler's exception: at the
    recursion limit the handler cannot start and Python raises a RecursionError
    instead, which trafilatura-style code catches and carries on (it returned
    "ok" with partial text); a page's own error within the limit stays its error."""
    def spins_at_the_recursion_limit(html, url, options):
        def down(n):
            try:
                return down(n + 1)
            except RecursionError:
                end = time.process_time() + 1.0
                try:
                    while time.process_time() < end:
                        pass
                except Exception as exc:  # noqa: BLE001 - as trafilatura's own handlers do
                    return f"partial after {type(exc).__name__}"
                return "finished"
        return down(0)

    monkeypatch.setattr(extract_module, "extract_main_text", spins_at_the_recursion_limit)
    assert extract_module._extract_limited("<p>x</p>", "", ExtractOptions(), 0.2) == ("timeout", 0.2)

    def fails_fast(html, url, options):
        raise ValueError("broken page")

    monkeypatch.setattr(extract_module, "extract_main_text", fails_fast)
    with pytest.raises(ValueError, match="broken page"):
        extract_module._extract_limited("<p>x</p>", "", ExtractOptions(), 5.0)
    monkeypatch.setattr(extract_module, "extract_main_text", lambda html, url, options: "本文")
    assert extract_module._extract_limited("<p>x</p>", "", ExtractOptions(), 5.0) == ("ok", "本文")
    import signal

    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)  # nothing left armed
