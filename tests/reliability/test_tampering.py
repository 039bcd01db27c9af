"""Tampering and planted links, round two: a manifest edited field by field is an error
naming ``manifest.json``; the model that loads is the one the manifest's id names; links
planted where citeseek writes (the lock, temporary files) or reads (``CURRENT``) are
never followed; store paths with URI characters work."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import citeseek
from citeseek.embed.hashing import HashingEmbedder
from citeseek.errors import BuildError, CorruptCollection
from citeseek.storage import layout

from .conftest import assert_intact, cli, snapshot, write_articles

TAMPERED = {
    "settings.batch_size": ("settings", "batch_size", "many"),
    "settings.chunk_tokens": ("settings", "chunk_tokens", -5),
    "settings.embed_title": ("settings", "embed_title", "yes"),
    "settings.backend": ("settings", "backend", "cuda"),
    "index.search": ("index", "search", {"efSearch": "fast"}),
    "index.search.efSearch": ("index", "search", {"efSearch": 10**30}),  # not a C int
    "index.recall_at_10": ("index", "recall_at_10", "high"),
    "index.ntotal": ("index", "ntotal", -1),
    "counts.documents": ("counts", "documents", "five"),
    "counts.chunks": ("counts", "chunks", 10**6),  # the index holds another number
    "model.dimension": ("model", "dimension", 0),
    "created": (None, "created", 20240101),
}


@pytest.mark.parametrize("field", sorted(TAMPERED))
def test_a_tampered_manifest_field_is_an_error_naming_the_file(built: Path,
                                                               field: str) -> None:
    section, key, value = TAMPERED[field]
    path = built / layout.current_generation(built) / layout.MANIFEST
    manifest = json.loads(path.read_text())
    (manifest[section] if section else manifest)[key] = value
    path.write_text(json.dumps(manifest))
    for verify in (True, False):
        with pytest.raises(CorruptCollection, match="manifest.json") as raised:
            citeseek.open(built, model=HashingEmbedder(), verify=verify)
        assert field.split(".")[0] in str(raised.value)
    for command in (["info"], ["search", "harbour", "--mode", "keyword"]):
        code, error, err = cli(*command, "--store", str(built), "--json")
        assert code == 1 and "manifest.json" in error["error"], err
        assert "Traceback" not in err


def test_the_model_that_loads_is_the_one_the_manifest_id_names(built: Path,
                                                               tmp_path: Path) -> None:
    evil = tmp_path / "evil-model"
    evil.mkdir()
    (evil / "config.json").write_text("{}")
    path = built / layout.current_generation(built) / layout.MANIFEST
    manifest = json.loads(path.read_text())
    manifest["settings"]["model"] = str(evil)  # the id still says hashing-64-64
    path.write_text(json.dumps(manifest))
    col = citeseek.open(built)
    hits = col.search("harbour crane cargo", k=2, mode="dense")
    assert hits and col.embedder.model_id == manifest["model"]["id"]
    code, found, err = cli("search", "harbour crane", "--store", str(built), "--json")
    assert code == 0 and found, err


def test_a_lock_planted_as_a_link_is_never_written_through(built: Path, articles: Path,
                                                           tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    before = snapshot(built)
    (built / ".lock").unlink()
    (built / ".lock").symlink_to(victim)
    (articles / "new.txt").write_text("A new article about harbour ferries.\n")
    with pytest.raises(BuildError, match="symbolic link"):
        citeseek.build(articles, built, model=HashingEmbedder(), progress=False)
    assert victim.read_text() == "precious"
    assert_intact(built, before, HashingEmbedder())


def test_temporary_files_planted_as_links_are_never_written_through(
        built: Path, articles: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (built / f".{layout.CURRENT}.{os.getpid()}.tmp").symlink_to(victim)
    (articles / "new.txt").write_text("A new article about harbour ferries.\n")
    col = citeseek.build(articles, built, model=HashingEmbedder(), progress=False)
    assert victim.read_text() == "precious"
    assert "new.txt" in {d["doc_id"] for d in col.documents()}


def test_current_as_a_link_is_refused_without_echoing_its_target(built: Path,
                                                                 tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("gen-000001 password=hunter2\n")
    (built / layout.CURRENT).unlink()
    (built / layout.CURRENT).symlink_to(secret)
    with pytest.raises(CorruptCollection, match="symbolic link") as raised:
        citeseek.open(built)
    assert "hunter2" not in str(raised.value)
    code, error, err = cli("info", "--store", str(built), "--json")
    assert code == 1 and "hunter2" not in json.dumps(error) + err


@pytest.mark.parametrize("name", ["store#1", "store?mode=rw", "100% store", "a b&c=d"])
def test_store_paths_with_uri_characters(tmp_path: Path, name: str) -> None:
    articles = write_articles(tmp_path / "in", 2)
    work = tmp_path / "work"
    work.mkdir()
    store = work / name
    col = citeseek.build(articles, store, model=HashingEmbedder(), progress=False)
    assert col.search("harbour crane", k=1, mode="keyword")
    code, hits, err = cli("search", "harbour crane", "--store", str(store), "--json")
    assert code == 0 and hits, err
    assert sorted(p.name for p in work.iterdir()) == [name]  # no stray SQLite files
