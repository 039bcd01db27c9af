"""``manifest.json`` read as typed records: every field, tampered with a wrong type, an
out-of-range value or by taking it away, makes ``citeseek`` exit 1 with an error that
names the file and the field; fields that old collections lack stay optional; and what
is read is what is on disk."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import citeseek
from citeseek.cli import main
from citeseek.demo import sample_dir
from citeseek.embed.hashing import HashingEmbedder
from citeseek.errors import CorruptCollection
from citeseek.storage import layout
from citeseek.storage.manifest import Manifest

COMPAT = Path(__file__).parents[1] / "fixtures" / "compat" / "store"
GONE = object()  # "take the field away"
NA = object()  # no such case for this field (a true/false flag has no range)

# dotted field -> (a wrong type, an out-of-range value, whether it may be missing)
FIELDS: dict[str, tuple[Any, Any, bool]] = {
    "generation": (7, "generation-1", False),
    "created": (20240101, "yesterday", False),
    "schema_version": ("1", 3, False),
    "model": ("hashing", NA, False),
    "model.id": (64, "", False),
    "model.dimension": ("64", 0, False),
    "model.max_seq_length": (64.0, -1, False),
    "settings": ([], NA, False),
    "settings.model": (1, "", False),
    "settings.chunk_tokens": ("40", -5, False),
    "settings.overlap_tokens": (True, -1, False),
    "settings.embed_title": ("yes", NA, False),
    "settings.batch_size": ("many", 0, False),
    "settings.index": (5, "", False),
    "settings.backend": (1, "cuda", True),  # stores from before backends: torch
    "counts": (3, NA, False),
    "counts.files": ("five", -1, False),
    "counts.documents": ("five", -1, False),
    "counts.chunks": (None, -1, False),
    "index": ("HNSW32,Flat", NA, False),
    "index.factory": (1, "", False),
    "index.ntotal": ("14", -1, False),
    "index.chosen": (1, "magic", False),
    "index.search": ("fast", {"speed": 3}, False),
    "index.search.efSearch": ("fast", 10**30, True),  # the knob's default then
    "index.recall_at_10": ("high", 1.5, False),
    "index.recall_queries": (1.0, -1, False),
    "index.exact": ("no", NA, False),
    "readers": ([], NA, True),  # stores from before reader versions
    "readers.html": ("1", 0, True),
    "versions": ("1.0", NA, False),
    "versions.citeseek": (1, "", True),
    "files": ([], NA, False),
    "files.store.sqlite": ("x", NA, False),
    "files.store.sqlite.sha256": (5, "xyz", False),
    "files.store.sqlite.bytes": ("1", -1, False),
    "files.index.faiss": ("x", NA, False),
    "files.index.faiss.sha256": (None, "0" * 63 + "g", False),
    "files.index.faiss.bytes": (3.5, -1, False),
}
CASES = [(name, how) for name, (wrong, out, optional) in FIELDS.items()
         for how, value in (("wrong type", wrong), ("out of range", out), ("missing", GONE))
         if value is not NA]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A collection whose manifest has every field: an HNSW index has a search setting."""
    store = tmp_path_factory.mktemp("manifest") / "store"
    citeseek.build(sample_dir(), store, model=HashingEmbedder(), progress=False,
                   index="HNSW32,Flat")
    return store


@pytest.fixture
def store(built: Path, tmp_path: Path) -> Path:
    target = tmp_path / "store"
    shutil.copytree(built, target)
    return target


def _path(manifest: dict[str, Any], dotted: str) -> tuple[dict[str, Any], str]:
    """The object holding ``dotted`` and its key (file names hold a dot of their own)."""
    for name in layout.DATA_FILES:
        dotted = dotted.replace(name, name.replace(".", "\0"))
    *parents, key = [part.replace("\0", ".") for part in dotted.split(".")]
    for part in parents:
        manifest = manifest[part]
    return manifest, key


def tamper(store: Path, dotted: str, value: Any) -> Path:
    path = store / str(layout.current_generation(store)) / layout.MANIFEST
    manifest = json.loads(path.read_text())
    holder, key = _path(manifest, dotted)
    assert key in holder, dotted  # the built manifest has every field of FIELDS
    if value is GONE:
        del holder[key]
    else:
        holder[key] = value
    path.write_text(json.dumps(manifest))
    return path


def run(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


@pytest.mark.parametrize(("field", "how"), CASES, ids=[f"{f} {h}" for f, h in CASES])
def test_a_tampered_field_is_an_error_naming_the_file_and_the_field(
        store: Path, field: str, how: str, capsys: pytest.CaptureFixture[str]) -> None:
    wrong, out, optional = FIELDS[field]
    path = tamper(store, field, {"wrong type": wrong, "out of range": out,
                                 "missing": GONE}[how])
    for argv in (["info"], ["search", "harbour crane"]):
        code, result = run(*argv, "--store", str(store), capsys=capsys)
        if how == "missing" and optional:
            assert code == 0, result
            continue
        assert code == 1, result
        assert result["type"] == "CorruptCollection"
        assert str(path) in result["error"] and field in result["error"], result["error"]
        with pytest.raises(CorruptCollection, match=field.replace(".", r"\.")):
            Manifest.read(path.parent, verify=False)


@pytest.mark.parametrize("field", ["counts.chunks", "index.ntotal"])
def test_counts_and_index_that_disagree_name_both_fields(
        store: Path, field: str, capsys: pytest.CaptureFixture[str]) -> None:
    tamper(store, field, 0)
    code, result = run("info", "--store", str(store), capsys=capsys)
    assert code == 1 and "manifest.json" in result["error"]
    assert "counts.chunks" in result["error"] and "index.ntotal" in result["error"]


def test_a_missing_search_setting_is_the_index_default(store: Path) -> None:
    tamper(store, "index.search.efSearch", GONE)
    col = citeseek.open(store, model=HashingEmbedder())
    assert col.search("harbour crane", k=2)
    assert col._live.current.index.search_params == {"efSearch": 64}


@pytest.mark.parametrize("what", ["fresh", "compat"])
def test_what_is_read_is_what_is_on_disk(built: Path, what: str) -> None:
    gen_dir = built / "gen-000001" if what == "fresh" else COMPAT / "gen-000001"
    on_disk = json.loads((gen_dir / layout.MANIFEST).read_text())
    manifest = Manifest.read(gen_dir, verify=True)
    assert manifest.to_dict() == on_disk
    assert list(manifest.to_dict()) == sorted(on_disk)  # as ``info --json`` printed it
    assert manifest.counts.chunks == manifest.index.ntotal == on_disk["counts"]["chunks"]
    assert manifest.model.id == on_disk["model"]["id"]


def test_the_compat_store_reads_without_reader_versions() -> None:
    manifest = Manifest.read(COMPAT / "gen-000001", verify=True)
    assert manifest.readers is None and "readers" not in manifest.to_dict()
    assert manifest.index.exact is True and manifest.index.search == {}
    assert manifest.settings.model == "fake-bow-64"


def test_an_index_from_before_tuning_was_recorded_is_read_as_it_is(store: Path) -> None:
    path = store / "gen-000001" / layout.MANIFEST
    manifest = json.loads(path.read_text())
    manifest["index"] = {k: manifest["index"][k] for k in ("factory", "ntotal")}
    path.write_text(json.dumps(manifest))
    read = Manifest.read(path.parent, verify=True)
    assert read.index.chosen is None and read.to_dict() == manifest
    assert citeseek.open(store, model=HashingEmbedder()).search("harbour crane", k=1)


def test_the_collection_shows_the_manifest_as_json(built: Path) -> None:
    col = citeseek.open(built, model=HashingEmbedder())
    on_disk = json.loads((built / col.generation / layout.MANIFEST).read_text())
    assert col.manifest == on_disk
    col.manifest["counts"]["chunks"] = -1  # a copy: the collection's own is untouched
    assert len(col) == on_disk["counts"]["chunks"]
    assert col.info() == {"store": str(built), **on_disk}
