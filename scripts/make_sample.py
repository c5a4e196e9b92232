"""Builds the bundled sample ``pipeline/resources/sample.warc.gz`` (and ``sample.jsonl``).

Every text in it was written for furui (``scripts/_sample_texts.py``); nothing is
copied from crawled data. The output is reproducible: fixed seed, fixed dates,
gzip ``mtime=0``, so two runs give byte-identical files (a test checks it).

Usage::

    python scripts/make_sample.py            # writes pipeline/resources/
    python scripts/make_sample.py --out DIR  # writes DIR/sample.warc.gz, DIR/sample.jsonl

See ``scripts/README_sample.md`` for what the sample contains.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import html
import json
import random
import struct
import sys
import uuid
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sample_texts import ARTICLES, CHINESE, ENGLISH, KOREAN  # noqa: E402

SEED = 20240501
START = dt.datetime(2024, 5, 1, 9, 0, 0, tzinfo=dt.timezone.utc)
RESOURCES = Path(__file__).resolve().parent.parent / "pipeline" / "resources"

# Three fictional sites, so near-duplicates can come with different boilerplate.
SITES = {
    "news": {
        "host": "midori-shimbun.example.jp",
        "name": "みどり新聞オンライン",
        "nav": ["トップ", "地域", "暮らし", "スポーツ", "歴史", "お問い合わせ"],
        "side_title": "よく読まれている記事",
        "footer": "Copyright みどり新聞社 All rights reserved. 記事の無断転載を禁じます。",
    },
    "blog": {
        "host": "kurashi-note.example.jp",
        "name": "くらしノート",
        "nav": ["ホーム", "料理", "技術", "暮らし", "プロフィール"],
        "side_title": "カテゴリー",
        "footer": "くらしノート 運営者情報 プライバシーポリシー 利用規約",
    },
    "travel": {
        "host": "tabi-techo.example.jp",
        "name": "たびの手帖",
        "nav": ["旅のトップ", "国内旅行", "温泉", "グルメ", "特集"],
        "side_title": "新着の旅",
        "footer": "たびの手帖編集部 広告掲載について サイトマップ",
    },
}
SITE_OF_CATEGORY = {"料理": "blog", "技術": "blog", "暮らし": "blog", "旅行": "travel"}

# PII of our own making (example.jp is reserved; the numbers follow the 03-1234-5678 style).
PII_PARAGRAPHS = {
    "table-tennis": "参加の申し込みやお問い合わせは、公民館の事務室（電話 03-1234-5678、メール takkyu-kyoushitsu@example.jp）までお気軽にどうぞ。受付は平日の午前十時から午後五時までです。",
    "library-renewal": "図書館の所在地は〒123-4567 東京都見本市中央町一丁目二番三号です。ご不明な点は電話 045-987-6543 またはメール library-info@example.jp でお問い合わせください。",
}


def _page(site_key: str, title: str, paragraphs: list[str], *, meta_charset: str | None = "utf-8",
          lang: str = "ja", sidebar: list[str] | None = None, extra_body: str = "") -> str:
    """Wraps an article in realistic header / navigation / sidebar / footer markup."""
    site = SITES[site_key]
    nav = "".join(f'<li><a href="/{i}/">{html.escape(n)}</a></li>' for i, n in enumerate(site["nav"]))
    side_items = sidebar if sidebar is not None else [a[1] for a in ARTICLES[:5]]
    side = "".join(f'<li><a href="/article/{i}">{html.escape(t)}</a></li>' for i, t in enumerate(side_items))
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    meta = f'<meta charset="{meta_charset}">\n' if meta_charset else ""
    return (
        f"<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n{meta}"
        f"<title>{html.escape(title)} | {html.escape(site['name'])}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="stylesheet" href="/static/style.css">\n'
        "<script>window.dataLayer = window.dataLayer || [];</script>\n</head>\n<body>\n"
        f'<header class="site-header"><div class="logo"><a href="/">{html.escape(site["name"])}</a></div>\n'
        f'<nav class="global-nav"><ul>{nav}</ul></nav></header>\n'
        '<div class="breadcrumb"><a href="/">ホーム</a> &gt; <span>記事</span></div>\n'
        f'<main><article><h1>{html.escape(title)}</h1>\n'
        f'<div class="meta">公開日 2024年5月1日</div>\n{body}\n{extra_body}</article></main>\n'
        f'<aside class="sidebar"><h2>{html.escape(site["side_title"])}</h2><ul>{side}</ul>\n'
        '<div class="ad">広告</div></aside>\n'
        '<div class="share">この記事をシェアする <a href="#">X</a> <a href="#">LINE</a> <a href="#">Facebook</a></div>\n'
        f'<footer><p>{html.escape(site["footer"])}</p><p><a href="/privacy">プライバシーポリシー</a> '
        '<a href="/contact">お問い合わせ</a></p></footer>\n</body>\n</html>\n'
    )


def _png() -> bytes:
    """A valid 1x1 PNG built from scratch."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x99\x00")) + chunk(b"IEND", b"")


_PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)


class _Writer:
    """Accumulates WARC records, one gzip member each (as crawlers write them)."""

    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.members: list[bytes] = []
        self.n = 0

    def _date(self) -> str:
        return (START + dt.timedelta(minutes=7 * self.n)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def record(self, warc_type: str, url: str | None, content_type: str, block: bytes,
               extra: dict[str, str] | None = None) -> bytes:
        rid = uuid.UUID(int=self.rng.getrandbits(128), version=4)
        headers = [("WARC-Type", warc_type), ("WARC-Record-ID", f"<urn:uuid:{rid}>"), ("WARC-Date", self._date())]
        if url:
            headers.append(("WARC-Target-URI", url))
        headers += list((extra or {}).items())
        headers += [("Content-Type", content_type), ("Content-Length", str(len(block)))]
        head = "WARC/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        self.n += 1
        raw = head.encode("utf-8") + block + b"\r\n\r\n"
        member = gzip.compress(raw, compresslevel=9, mtime=0)
        self.members.append(member)
        return member

    def response(self, url: str, body: bytes, content_type: str = "text/html; charset=UTF-8",
                 status: str = "200 OK", extra_http: list[tuple[str, str]] | None = None,
                 chunked: bool = False) -> None:
        http_headers = [("Date", "Wed, 01 May 2024 09:00:00 GMT"), ("Server", "nginx")]
        if content_type:
            http_headers.append(("Content-Type", content_type))
        http_headers += extra_http or []
        if chunked:
            http_headers.append(("Transfer-Encoding", "chunked"))
            step = 700
            parts = [body[i : i + step] for i in range(0, len(body), step)]
            body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
        else:
            http_headers.append(("Content-Length", str(len(body))))
        head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in http_headers) + "\r\n"
        self.record("response", url, "application/http; msgtype=response", head.encode("latin-1") + body,
                    {"WARC-IP-Address": "192.0.2.10"})

    def request(self, url: str) -> None:
        host = url.split("/")[2]
        path = "/" + url.split("/", 3)[3]
        req = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: furui-sample/1.0\r\n"
               "Accept: text/html\r\nAccept-Language: ja,en;q=0.5\r\n\r\n")
        self.record("request", url, "application/http; msgtype=request", req.encode("ascii"))


def build_warc() -> bytes:
    """Returns the bytes of ``sample.warc.gz`` (see README_sample.md)."""
    w = _Writer()
    info = ("software: furui scripts/make_sample.py\r\nformat: WARC File Format 1.0\r\n"
            "description: synthetic sample written for furui tests\r\n").encode()
    w.record("warcinfo", None, "application/warc-fields", info, {"WARC-Filename": "sample.warc.gz"})

    urls = {}
    for i, (slug, title, category, paragraphs) in enumerate(ARTICLES):
        site = SITE_OF_CATEGORY.get(category, "news")
        url = f"https://{SITES[site]['host']}/{category_path(category)}/{slug}.html"
        urls[slug] = url
        paragraphs = list(paragraphs)
        if slug in PII_PARAGRAPHS:
            paragraphs.append(PII_PARAGRAPHS[slug])
        if i < 10:
            w.request(url)
        # Charset variety: declared in the header and/or <meta>, or not at all.
        if slug == "kyoto-autumn":  # Shift_JIS, declared in both
            page = _page(site, title, paragraphs, meta_charset="Shift_JIS")
            w.response(url, page.encode("shift_jis"), "text/html; charset=Shift_JIS")
        elif slug == "hokkaido-drive":  # EUC-JP, declared in <meta> only
            page = _page(site, title, paragraphs, meta_charset="EUC-JP")
            w.response(url, page.encode("euc_jp"), "text/html")
        elif slug == "onsen-guide":  # UTF-8 with no declared charset anywhere
            page = _page(site, title, paragraphs, meta_charset=None)
            w.response(url, page.encode("utf-8"), "text/html")
        elif slug == "castle-town":  # ISO-2022-JP, declared in both
            page = _page(site, title, paragraphs, meta_charset="ISO-2022-JP")
            w.response(url, page.encode("iso2022_jp"), "text/html; charset=ISO-2022-JP")
        elif slug == "phone-battery":  # Content-Encoding: gzip body
            page = _page(site, title, paragraphs).encode("utf-8")
            w.response(url, gzip.compress(page, mtime=0), extra_http=[("Content-Encoding", "gzip")])
        elif slug == "home-wifi":  # chunked transfer coding
            w.response(url, _page(site, title, paragraphs).encode("utf-8"), chunked=True)
        else:
            w.response(url, _page(site, title, paragraphs).encode("utf-8"))

    # Exact duplicate: the same page served under a tracking-parameter URL.
    slug, title, category, paragraphs = ARTICLES[0]
    w.response(urls[slug] + "?utm_source=newsletter",
               _page(SITE_OF_CATEGORY[category], title, list(paragraphs)).encode("utf-8"))

    # Near-duplicates: small edits, different boilerplate (another site's template).
    near = [
        ("curry-night", "news", [("二十分ほど", "二十五分ほど"), ("鶏もも肉", "豚の肩ロース肉")]),
        ("highschool-baseball", "blog", [("三点差", "三点の差"), ("大きな歓声", "割れんばかりの歓声")]),
        ("disaster-prep", "travel", [("最低でも三日分", "少なくとも三日分"), ("懐中電灯", "手回し式の懐中電灯")]),
    ]
    for slug, site, edits in near:
        _, title, _, paragraphs = next(a for a in ARTICLES if a[0] == slug)
        edited = []
        for p in paragraphs:
            for old, new in edits:
                p = p.replace(old, new)
            edited.append(p)
        w.response(f"https://{SITES[site]['host']}/repost/{slug}.html",
                   _page(site, title + "（転載）", edited, sidebar=["関連記事", "人気の記事", "新着記事"]).encode("utf-8"))

    # Other languages (our own text).
    for key, (slug, title, paragraphs), lang, charset in (
        ("en", ENGLISH, "en", "utf-8"), ("zh", CHINESE, "zh-CN", "utf-8"), ("ko", KOREAN, "ko", "utf-8"),
    ):
        page = _page("news", title, paragraphs, lang=lang, sidebar=[title])
        w.response(f"https://world-{key}.example.com/{slug}.html", page.encode(charset))

    # Spam: keyword stuffing, and an ad-heavy page.
    stuffing = ["激安 格安 最安値 送料無料 今すぐ購入 激安 格安 最安値 ブランド 人気 ランキング 激安"] * 12
    w.response("https://super-yasui.example.net/index.html",
               _page("blog", "激安 格安 最安値 通販", stuffing, sidebar=["激安", "格安", "最安値"]).encode("utf-8"))
    ads = "".join(
        f'<div class="ad-banner"><a href="https://ads.example.net/click?id={k}">今だけ半額！このサプリで毎日すっきり！'
        f"今すぐクリック！</a></div>\n" for k in range(25)
    )
    w.response("https://matome-ad.example.net/entry/1.html",
               _page("blog", "【衝撃】今話題のあの商品とは", ["詳しくは下のリンクから！"], extra_body=ads).encode("utf-8"))

    # Low quality: a link list, a very short page, repeated lines.
    links = "".join(f'<li><a href="/link/{k}">リンク{k}</a></li>' for k in range(60))
    w.response("https://link-shuu.example.org/links.html",
               _page("news", "リンク集", [], extra_body=f"<ul>{links}</ul>").encode("utf-8"))
    w.response("https://tiny.example.org/", _page("news", "準備中", ["ただいま準備中です。"]).encode("utf-8"))
    w.response("https://repeat.example.org/sale.html",
               _page("blog", "セールのお知らせ", ["セール開催中！お見逃しなく。"] * 30).encode("utf-8"))

    # Not HTML, and an HTTP error.
    w.response("https://midori-shimbun.example.jp/images/logo.png", _png(), "image/png")
    w.response("https://midori-shimbun.example.jp/files/guide.pdf", _PDF, "application/pdf")
    w.response("https://midori-shimbun.example.jp/missing.html",
               _page("news", "ページが見つかりません", ["お探しのページは見つかりませんでした。"]).encode("utf-8"),
               status="404 Not Found")

    # A truncated record at the end: its gzip member is cut in half.
    slug, title, category, paragraphs = ARTICLES[-1]
    w.response(f"https://kurashi-note.example.jp/cut/{slug}.html",
               _page("blog", title, list(paragraphs)).encode("utf-8"))
    w.members[-1] = w.members[-1][: len(w.members[-1]) // 2]
    return b"".join(w.members)


def category_path(category: str) -> str:
    return {"料理": "cooking", "旅行": "travel", "地域": "local", "技術": "tech", "スポーツ": "sports",
            "歴史": "history", "暮らし": "life"}[category]


def build_jsonl() -> bytes:
    """Returns ``sample.jsonl``: a few lines for the JSONL input path."""
    lines = []
    for k, (slug, title, category, paragraphs) in enumerate(ARTICLES[14:20]):
        url = f"https://jsonl.example.jp/{slug}"
        if k % 2 == 0:
            body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
            obj = {"url": url, "html": f"<html><head><title>{html.escape(title)}</title></head><body>"
                                       f"<h1>{html.escape(title)}</h1>{body}</body></html>"}
        else:
            obj = {"url": url, "text": title + "\n" + "\n".join(paragraphs)}
        if k < 3:
            obj["id"] = f"jsonl-{k:03d}"
            obj["date"] = f"2024-05-0{k + 1}T12:00:00Z"
        lines.append(json.dumps(obj, ensure_ascii=False, sort_keys=True))
    return ("\n".join(lines) + "\n").encode("utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESOURCES)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sample.warc.gz").write_bytes(build_warc())
    (args.out / "sample.jsonl").write_bytes(build_jsonl())


if __name__ == "__main__":
    main()
