"""Tests of the zlib compression-ratio bounds."""

from __future__ import annotations

import random
import zlib

from filters.compression import CompressionRatioFilter
from schemas.records import Doc

PROSE = (
    "昨日は友人と一緒に新しくできた美術館へ出かけた。展示室は広く、現代作家の絵画や彫刻が"
    "数多く並んでいて、どれも見応えがあった。特に印象に残ったのは、海辺の町を描いた大きな油絵で、"
    "光の表現がとても繊細だった。帰りには近くの喫茶店で感想を語り合い、次は秋の特別展に行こうと約束した。\n"
    "週末には家族で山あいの温泉地を訪れる予定だ。宿の近くには古い寺や川沿いの遊歩道があり、"
    "紅葉の季節には多くの観光客でにぎわうという。地元の名物である蕎麦や川魚の料理も楽しみにしている。"
    "天気予報によると土曜日は晴れ、日曜日は午後から雨になるらしいので、早めに出発するつもりだ。"
)


def doc(text: str) -> Doc:
    return Doc(id="t", url="", source="", crawl_date="", text=text)


def test_prose_is_kept_and_ratio_is_zlib() -> None:
    f = CompressionRatioFilter()
    scores = f.score(doc(PROSE))
    raw = PROSE.encode()
    assert scores == {"compression_ratio": len(zlib.compress(raw, 6)) / len(raw)}
    assert 0.30 <= scores["compression_ratio"] <= 0.70
    assert f.decide(scores) is None


def test_repetitive_text_is_too_compressible() -> None:
    f = CompressionRatioFilter()
    assert f.decide(f.score(doc("お得な情報はこちら。" * 50))) == "too_compressible"


def test_random_text_is_too_incompressible() -> None:
    rng = random.Random(0)
    blob = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(2000))
    f = CompressionRatioFilter()
    assert f.decide(f.score(doc(blob))) == "too_incompressible"


def test_boundaries_inclusive() -> None:
    f = CompressionRatioFilter()
    assert f.decide({"compression_ratio": 0.30}) is None
    assert f.decide({"compression_ratio": 0.70}) is None
    assert f.decide({"compression_ratio": 0.2999}) == "too_compressible"
    assert f.decide({"compression_ratio": 0.7001}) == "too_incompressible"
    assert f.score(doc("")) == {"compression_ratio": 0.0}
