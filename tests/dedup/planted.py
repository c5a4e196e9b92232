"""Planted near-duplicates built at run time from livedoor news articles.

The articles (CC BY-ND) are read from ../shared/data and edited only in
memory: nothing derived from them is ever written into the repository.

Each *family* is one original article plus ``variants`` edited copies. Edits
mimic what crawls produce: inserted sentences (ads, captions), deleted spans,
swapped boilerplate (header/footer from another page), reordered paragraphs
and scattered character substitutions. Edit strength varies so the true
character-5-gram Jaccard of family pairs spans roughly 0.4-1.0.
"""

from __future__ import annotations

import random
from pathlib import Path

from dedup.shingle import jaccard, shingles

BOILERPLATE = [
    "【関連記事】\n・ライブドアニュースのトップへ\n・この記事をシェアする",
    "※この記事の内容は掲載当時のものです。最新の情報は公式サイトでご確認ください。",
    "PR: 今なら新規会員登録で500ポイントプレゼント！詳しくはこちら",
    "▼ 人気記事ランキング\n1位 今週の話題\n2位 編集部のおすすめ",
]


def livedoor_files(root: Path) -> list[Path]:
    """Article files in a stable order (LICENSE/README excluded)."""
    return sorted(p for p in root.glob("*/*.txt") if p.name != "LICENSE.txt")


def read_article(path: Path) -> str:
    """Article body: livedoor files are URL, date, title, body; keep title+body."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n".join(lines[2:]).strip()


def edit(text: str, donor: str, rng: random.Random, strength: int) -> str:
    """Apply ``strength`` random crawl-like edits to ``text`` (donor supplies foreign text)."""
    paras = [p for p in text.split("\n") if p.strip()]
    ops = rng.sample(["insert", "delete", "boilerplate", "reorder", "substitute"], k=min(strength, 5))
    for op in ops:
        if op == "insert":
            donor_sents = [s for s in donor.split("。") if len(s) > 10] or [donor[:50]]
            for _ in range(rng.randint(1, 4)):
                paras.insert(rng.randrange(len(paras) + 1), rng.choice(donor_sents)[:120] + "。")
        elif op == "delete" and len(paras) > 2:
            joined = "\n".join(paras)
            span = max(1, int(len(joined) * rng.uniform(0.02, 0.2)))
            start = rng.randrange(max(1, len(joined) - span))
            paras = [p for p in (joined[:start] + joined[start + span :]).split("\n") if p.strip()]
        elif op == "boilerplate":
            if rng.random() < 0.5:
                paras = [rng.choice(BOILERPLATE)] + paras
            else:
                paras = paras + [rng.choice(BOILERPLATE)]
        elif op == "reorder" and len(paras) > 3:
            i, j = sorted(rng.sample(range(1, len(paras)), 2))
            paras[i], paras[j] = paras[j], paras[i]
        elif op == "substitute":
            chars = list("\n".join(paras))
            for _ in range(max(1, int(len(chars) * rng.uniform(0.001, 0.02)))):
                k = rng.randrange(len(chars))
                if chars[k] != "\n":
                    chars[k] = rng.choice("あいうえおカキクケコ日本語")
            paras = [p for p in "".join(chars).split("\n") if p.strip()]
    return "\n".join(paras)


def build_corpus(root: Path, n_families: int, variants: int = 2, seed: int = 0, offset: int = 0):
    """Return ``(docs, family)``: ``docs`` maps id -> text; ``family`` maps id -> family index.

    Args:
        root: livedoor corpus directory.
        n_families: Number of original articles used (files ``offset..``).
        variants: Edited copies per original.
        seed: RNG seed (the corpus is a pure function of its arguments).
        offset: First article index, to build disjoint corpora.
    """
    files = livedoor_files(root)
    rng = random.Random(seed)
    picked = files[offset : offset + n_families]
    texts = [read_article(p) for p in picked]
    docs: dict[str, str] = {}
    family: dict[str, int] = {}
    for f, text in enumerate(texts):
        base_id = f"f{f:05d}-0"
        docs[base_id] = text
        family[base_id] = f
        for v in range(1, variants + 1):
            donor = texts[(f + 7 * v) % len(texts)]
            docs[f"f{f:05d}-{v}"] = edit(text, donor, rng, strength=rng.randint(1, 4))
            family[f"f{f:05d}-{v}"] = f
    return docs, family


def true_jaccard(a: str, b: str, n: int = 5) -> float:
    """Exact character n-gram Jaccard (the ground truth)."""
    return jaccard(shingles(a, n), shingles(b, n))
