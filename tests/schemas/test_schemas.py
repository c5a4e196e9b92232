import ast
from pathlib import Path

import pyarrow as pa

from schemas import clusters, documents, rejects, stats
from schemas.records import Doc, Reject

REPO = Path(__file__).resolve().parents[2]


def test_doc_fields_match_documents_schema():
    assert list(Doc._fields) == documents.SCHEMA.names


def test_reject_fields_match_rejects_schema():
    assert list(Reject._fields) == rejects.SCHEMA.names


def test_every_schema_has_a_version():
    for mod in (documents, rejects, clusters, stats):
        assert mod.SCHEMA.metadata[b"schema_version"] == mod.SCHEMA_VERSION.encode()


def test_doc_defaults_round_trip_through_arrow():
    doc = Doc(id="a", url="u", source="s", crawl_date="", text="本文", scores={"x.y": 1.0}, pii={"email": 2})
    from pipeline.run import _doc_row

    table = pa.Table.from_pylist([_doc_row(doc)], schema=documents.SCHEMA)
    back = table.to_pylist()[0]
    assert back["text"] == "本文"
    assert {e["key"]: e["value"] for e in back["scores"]} == {"x.y": 1.0}
    assert {e["key"]: e["value"] for e in back["pii"]} == {"email": 2}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_beam_free_packages_never_import_beam():
    offenders = []
    for pkg in ("schemas", "filters", "dedup"):
        for path in (REPO / pkg).rglob("*.py"):
            if "apache_beam" in _imports(path):
                offenders.append(str(path.relative_to(REPO)))
    for name in ("readers.py", "extract.py"):
        path = REPO / "pipeline" / name
        if path.exists() and "apache_beam" in _imports(path):
            offenders.append(f"pipeline/{name}")
    assert offenders == []
