"""A store of levels (a base, and the deltas later builds stack on it) reads exactly as
one store built afresh from the same articles: documents, passages, citations, filters,
the three search modes; hidden passages never come back; each generation's files stay
as sealed; deltas are merged past ``MAX_DELTAS`` and written into a new base past the
size bounds; a file no generation links is gone."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

import citeseek
from citeseek.embed.hashing import HashingEmbedder
from citeseek.errors import CorruptCollection, DocumentNotFound
from citeseek.storage import layout, levels, tantivy_index
from citeseek.storage.manifest import Manifest

QUERIES = ("protesters in the square", "election results", "harbour", "the")


def _edit(folder: Path, step: int) -> None:
    """One change per step: a file added, changed, removed, a document moved to another
    file, and two files changed at once."""
    names = sorted(p.name for p in folder.glob("*.txt"))
    if step == 0:
        (folder / "extra.txt").write_text("Harbour ferries\n\nThe harbour ferry leaves the "
                                          "pier at dawn; protesters gathered by the quay.\n")
    elif step == 1:
        target = folder / names[1]
        target.write_text(target.read_text() + "\nA closing line on the election results.\n")
    elif step == 2:
        (folder / names[0]).unlink()
    elif step == 3:
        (folder / "extra.txt").rename(folder / "moved.txt")
    elif step == 4:
        for name in (names[2], "moved.txt"):
            (folder / name).write_text(f"Rewritten\n\nThe election results of {name} "
                                       "were read out in the square.\n")


def _same_collection(a: citeseek.Collection, b: citeseek.Collection) -> None:
    """``a`` and ``b`` hold the same documents, passages and citations, and answer every
    mode alike (passage ids may differ: they are compared by document and text)."""
    assert a.documents() == b.documents()
    assert len(a) == len(b)
    for doc in a.documents():
        assert a.document(doc["doc_id"]).text == b.document(doc["doc_id"]).text

    def passages(col: citeseek.Collection) -> list[tuple[str, int, int, str]]:
        return sorted((p["doc_id"], p["start"], p["end"], p["text"]) for p in col.passages())

    assert passages(a) == passages(b)

    def ranked(hits: citeseek.HitList) -> list[tuple[float, str, str]]:
        return sorted((-round(h.score, 5), h.doc_id, h.text) for h in hits)  # ties in order

    for query in QUERIES:
        for mode in ("keyword", "dense", "hybrid"):
            hits_a, hits_b = a.search(query, k=8, mode=mode), b.search(query, k=8, mode=mode)
            assert ranked(hits_a) == ranked(hits_b), (query, mode)
            for hit in hits_a:
                assert a.document(hit.doc_id).text[hit.start:hit.end] == hit.text
        first = a.documents()[0]["doc_id"]
        assert [h.text for h in a.search(query, k=5, sources=[first])] == \
            [h.text for h in b.search(query, k=5, sources=[first])]


@pytest.fixture(autouse=True)
def _fresh_keyword_statistics(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every keyword index written anew at each build (Tantivy counts removed passages
    in BM25's statistics until it merges their segment): scores then compare with a
    fresh build's, and what is compared is the store's levels alone."""
    monkeypatch.setattr(tantivy_index, "REINDEX_SHARE", -1.0)


def _levels(store: Path) -> list[tuple[str, str]]:
    return Manifest.read(store / str(layout.current_generation(store)), verify=True).levels


def test_a_store_of_levels_reads_as_one_built_afresh(sample_dir: Path, tmp_path: Path) -> None:
    store, fake = tmp_path / "store", HashingEmbedder()
    citeseek.build(sample_dir, store, model=fake, progress=False)
    for step in range(5):
        _edit(sample_dir, step)
        col = citeseek.build(sample_dir, store, model=fake, progress=False)
        # a delta stacked per build; the fifth merges the four before it
        assert len(_levels(store)) == (step + 2 if step < levels.MAX_DELTAS else 2)
        fresh = citeseek.build(sample_dir, tmp_path / f"fresh{step}", model=fake,
                               progress=False)
        _same_collection(col, fresh)
        _same_collection(citeseek.open(store, model=fake), fresh)  # opened verified
        assert col.info()["counts"] == fresh.info()["counts"]
        shutil.rmtree(tmp_path / f"fresh{step}")


def test_an_update_shares_the_base_and_leaves_every_file_as_sealed(
        sample_dir: Path, tmp_path: Path) -> None:
    store, fake = tmp_path / "store", HashingEmbedder()
    citeseek.build(sample_dir, store, model=fake, progress=False)
    first = store / "gen-000001"
    sums = {name: layout.sha256_file(first / name) for name in layout.generation_files(first)}
    _edit(sample_dir, 1)
    citeseek.build(sample_dir, store, model=fake, progress=False)
    second = store / "gen-000002"
    for name in layout.DATA_FILES:  # the base: one file on disk, in both folders
        assert os.path.samefile(first / name, second / name)
    delta = second / layout.delta_name("gen-000002", "sqlite")
    changed = sorted(p.name for p in sample_dir.glob("*.txt"))[1]
    with sqlite3.connect(delta) as conn:  # the delta holds the changed file alone
        assert conn.execute("SELECT DISTINCT doc_id FROM chunks").fetchall() == [(changed,)]
        assert conn.execute("SELECT doc_id FROM hidden_documents").fetchall() == [(changed,)]
        assert conn.execute("SELECT key FROM files").fetchall() == [
            (str(sample_dir / changed),)]
    assert {name: layout.sha256_file(first / name) for name in sums} == sums
    Manifest.read(first, verify=True)
    manifest = Manifest.read(second, verify=True)
    assert manifest.index.parts == {"index.faiss": manifest.index.part("index.faiss"),
                                    "delta-000002.faiss": manifest.index.parts[
                                        "delta-000002.faiss"]}
    assert manifest.index.hidden > 0  # the changed file's old passages
    assert sum(manifest.index.parts.values()) - manifest.index.hidden == manifest.counts.chunks


def test_hidden_passages_never_come_back(sample_dir: Path, tmp_path: Path) -> None:
    store, fake = tmp_path / "store", HashingEmbedder()
    col = citeseek.build(sample_dir, store, model=fake, progress=False)
    gone = sorted(sample_dir.glob("*.txt"))[0]
    old = [p for p in col.passages() if p["doc_id"] == gone.name]
    gone.unlink()
    col = citeseek.build(sample_dir, store, model=fake, progress=False)
    assert len(_levels(store)) == 2 and gone.name not in {d["doc_id"] for d in col.documents()}
    for passage in old[:5]:  # its own text as the query: the nearest vector, were it there
        for mode in ("dense", "keyword", "hybrid"):
            assert gone.name not in {h.doc_id for h in col.search(passage["text"], k=10,
                                                                   mode=mode)}
    with pytest.raises(DocumentNotFound):
        col.document(gone.name)
    assert not [i for i in col.search("the", k=10**4, mode="keyword") if i.doc_id == gone.name]


def test_hidden_passage_ids_are_not_taken_again(sample_dir: Path, tmp_path: Path) -> None:
    store, fake = tmp_path / "store", HashingEmbedder()
    col = citeseek.build(sample_dir, store, model=fake, progress=False)
    before = max(p["chunk_id"] for p in col.passages())
    _edit(sample_dir, 1)  # a file changed: its passages hidden in the base, written anew
    col = citeseek.build(sample_dir, store, model=fake, progress=False)
    changed = sorted(p.name for p in sample_dir.glob("*.txt"))[1]
    assert min(p["chunk_id"] for p in col.passages() if p["doc_id"] == changed) > before


def test_deltas_past_the_bound_are_merged_into_one(sample_dir: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(levels, "MAX_DELTAS", 2)
    store, fake = tmp_path / "store", HashingEmbedder()
    citeseek.build(sample_dir, store, model=fake, progress=False)
    counts = []
    for step in range(5):
        _edit(sample_dir, step)
        col = citeseek.build(sample_dir, store, model=fake, progress=False)
        counts.append(len(_levels(store)))
    assert counts == [2, 3, 2, 3, 2]  # the third delta merged the two before it
    assert _levels(store)[0] == (layout.STORE_FILE, layout.INDEX_FILE)
    fresh = citeseek.build(sample_dir, tmp_path / "fresh", model=fake, progress=False)
    _same_collection(col, fresh)


def test_levels_past_the_size_bounds_become_one_new_base(
        sample_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, fake = tmp_path / "store", HashingEmbedder()
    citeseek.build(sample_dir, store, model=fake, progress=False)
    _edit(sample_dir, 0)
    citeseek.build(sample_dir, store, model=fake, progress=False)
    base = store / "gen-000002" / layout.STORE_FILE
    monkeypatch.setattr(levels, "DELTA_MIN", 0)
    monkeypatch.setattr(levels, "DELTA_SHARE", 0.0)
    _edit(sample_dir, 1)
    col = citeseek.build(sample_dir, store, model=fake, progress=False)
    gen = store / str(col.generation)
    assert _levels(store) == [(layout.STORE_FILE, layout.INDEX_FILE)]
    assert not os.path.samefile(gen / layout.STORE_FILE, base)  # written anew
    assert sorted(p.name for p in gen.iterdir() if p.is_file()) == [
        "index.faiss", "manifest.json", "store.sqlite"]
    info = json.loads((gen / layout.MANIFEST).read_text())["index"]
    assert "parts" not in info and info["ntotal"] == len(col)
    fresh = citeseek.build(sample_dir, tmp_path / "fresh", model=fake, progress=False)
    _same_collection(col, fresh)


def test_disk_of_a_level_no_generation_links_is_freed(
        sample_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each build merges the one delta before it (``MAX_DELTAS`` 1): once the two
    generations kept no longer link a delta, no file of it is left."""
    monkeypatch.setattr(levels, "MAX_DELTAS", 1)
    store, fake = tmp_path / "store", HashingEmbedder()
    citeseek.build(sample_dir, store, model=fake, progress=False)
    for step in range(3):
        _edit(sample_dir, step)
        citeseek.build(sample_dir, store, model=fake, progress=False)
    assert layout.generations(store) == ["gen-000003", "gen-000004"]
    assert _levels(store)[1] == ("delta-000004.sqlite", "delta-000004.faiss")
    assert not list(store.rglob("delta-000002.*"))  # merged into delta-000003, then gone
    assert [p.parent.name for p in store.rglob("delta-000003.sqlite")] == ["gen-000003"]
    base = store / "gen-000004" / layout.STORE_FILE
    assert base.stat().st_nlink == 2  # the base, in both generations' folders
    assert os.path.samefile(base, store / "gen-000003" / layout.STORE_FILE)


def test_a_manifest_that_miscounts_hidden_passages_is_refused(
        sample_dir: Path, tmp_path: Path) -> None:
    store, fake = tmp_path / "store", HashingEmbedder()
    citeseek.build(sample_dir, store, model=fake, progress=False)
    _edit(sample_dir, 1)
    citeseek.build(sample_dir, store, model=fake, progress=False)
    path = store / "gen-000002" / layout.MANIFEST
    data = json.loads(path.read_text())
    data["index"]["hidden"] += 1
    data["index"]["parts"]["index.faiss"] += 1  # the sums still agree with ntotal
    path.write_text(json.dumps(data))
    with pytest.raises(CorruptCollection, match="hidden|vectors"):
        citeseek.open(store, model=fake)
    del data["files"]["delta-000002.faiss"]
    path.write_text(json.dumps(data))
    with pytest.raises(CorruptCollection, match="delta-000002.faiss"):
        citeseek.open(store, model=fake)


def test_a_base_with_the_earlier_embeddings_table_takes_deltas(
        sample_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stores built before ``embeddings`` became a rowid table hold it WITHOUT ROWID;
    deltas stacked on such a base (and their merge) read as a fresh build."""
    from citeseek.storage import database, sql

    earlier = sql.SCHEMA.replace("vector BLOB NOT NULL, UNIQUE(model, hash));",
                                 "vector BLOB NOT NULL,\n    PRIMARY KEY(model, hash)) "
                                 "WITHOUT ROWID;")
    assert earlier != sql.SCHEMA
    store, fake = tmp_path / "store", HashingEmbedder()
    with monkeypatch.context() as patch:
        patch.setattr(database, "SCHEMA", earlier)
        citeseek.build(sample_dir, store, model=fake, progress=False)

    def declared(path: Path) -> str:
        with sqlite3.connect(path) as conn:
            return str(conn.execute("SELECT sql FROM sqlite_master WHERE "
                                    "name='embeddings'").fetchone()[0])

    base = store / "gen-000001" / layout.STORE_FILE
    assert "WITHOUT ROWID" in declared(base)
    base_inode = base.stat().st_ino
    for step in range(5):
        _edit(sample_dir, step)
        col = citeseek.build(sample_dir, store, model=fake, progress=False)
        gen = store / str(layout.current_generation(store))
        assert (gen / layout.STORE_FILE).stat().st_ino == base_inode  # the old base
        assert "WITHOUT ROWID" not in declared(gen / _levels(store)[-1][0])
        fresh = citeseek.build(sample_dir, tmp_path / f"fresh{step}", model=fake,
                               progress=False)
        _same_collection(citeseek.open(store, model=fake), fresh)
        assert col.info()["counts"] == fresh.info()["counts"]
        shutil.rmtree(tmp_path / f"fresh{step}")
