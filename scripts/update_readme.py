"""Regenerates the README blocks derived from code: output schemas and the default config.

Run ``python scripts/update_readme.py`` after changing ``schemas/`` or
``pipeline/configs/default.toml``; ``tests/test_readme.py`` fails when the
README is out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def schema_markdown() -> str:
    from schemas import clusters, documents, rejects, stats

    parts = []
    for mod in (documents, rejects, clusters, stats):
        name = mod.SCHEMA.metadata[b"furui_output"].decode()
        doc = (mod.__doc__ or "").strip().splitlines()[0]
        parts.append(f"**{name}** (schema version {mod.SCHEMA_VERSION}): {doc}\n")
        parts.append("| column | type | nullable | holds |\n|---|---|---|---|")
        for f in mod.SCHEMA:
            parts.append(f"| `{f.name}` | `{f.type}` | {'yes' if f.nullable else 'no'} | {mod.DESCRIPTIONS[f.name]} |")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def config_markdown() -> str:
    from pipeline.config import default_config_text

    return "```toml\n" + default_config_text().rstrip() + "\n```\n"


BLOCKS = {"schemas": schema_markdown, "config": config_markdown}


def render(readme: str) -> str:
    for name, fn in BLOCKS.items():
        pattern = re.compile(rf"(<!-- BEGIN GENERATED {name} -->\n)(.*?)(<!-- END GENERATED {name} -->)", re.S)
        if not pattern.search(readme):
            raise SystemExit(f"README.md has no generated block {name!r}")
        readme = pattern.sub(lambda m: m.group(1) + fn() + m.group(3), readme)
    return readme


def main() -> None:
    path = REPO / "README.md"
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
