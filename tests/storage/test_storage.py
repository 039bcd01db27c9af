"""The storage layer's own contracts: ``GenerationDB.transaction()`` commits a block's writes
together or not at all and lets the block's error through; passage rows carry names;
filters resolve to passages in SQL."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict
from pathlib import Path

import pytest

import citeseek
from citeseek.citation import PassageRow
from citeseek.embed.hashing import HashingEmbedder
from citeseek.storage.database import GenerationDB


class Boom(Exception):
    pass


def files_in(path: Path) -> dict[str, str]:
    """What another connection sees: only committed writes."""
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT key, sha256 FROM files"))
    finally:
        conn.close()


def test_transaction_commits_when_the_block_ends(tmp_path: Path) -> None:
    db = GenerationDB(tmp_path / "s.sqlite")
    with db.transaction():
        db.set_file("a.txt", "sha-a", 1, 1)
        db.set_file("b.txt", "sha-b", 1, 1)
        assert files_in(db.path) == {}  # not before
    assert files_in(db.path) == {"a.txt": "sha-a", "b.txt": "sha-b"}
    assert not db.conn.in_transaction


@pytest.mark.parametrize("error", [Boom("the block's own"), KeyboardInterrupt()])
def test_transaction_rolls_back_and_raises_the_blocks_error(tmp_path: Path,
                                                            error: BaseException) -> None:
    db = GenerationDB(tmp_path / "s.sqlite")
    db.set_file("kept.txt", "sha", 1, 1)
    with pytest.raises(type(error)) as raised, db.transaction():
        db.set_file("lost.txt", "sha", 1, 1)
        db.remove_file("kept.txt")
        raise error
    assert raised.value is error
    assert db.file_hashes() == {"kept.txt": "sha"} == files_in(db.path)
    assert not db.conn.in_transaction
    with db.transaction():  # and the database takes the next one
        db.set_file("next.txt", "sha", 1, 1)
    assert set(files_in(db.path)) == {"kept.txt", "next.txt"}


def test_an_sqlite_error_inside_is_the_error_seen(tmp_path: Path) -> None:
    db = GenerationDB(tmp_path / "s.sqlite")
    with pytest.raises(sqlite3.IntegrityError), db.transaction():
        db.set_file("a.txt", "sha", 1, 1)
        db.conn.execute("INSERT INTO files(key, sha256, size, n_docs) VALUES "
                           "('b', NULL, 1, 1)")
    assert files_in(db.path) == {}


def test_a_nested_block_is_a_savepoint(tmp_path: Path) -> None:
    db = GenerationDB(tmp_path / "s.sqlite")
    with db.transaction():
        db.set_file("outer.txt", "sha", 1, 1)
        with pytest.raises(Boom), db.transaction():
            db.set_file("inner.txt", "sha", 1, 1)
            raise Boom
        with db.transaction():
            db.set_file("second.txt", "sha", 1, 1)
    assert set(files_in(db.path)) == {"outer.txt", "second.txt"}


def test_passage_rows_and_filters(tmp_path: Path, sample_dir: Path) -> None:
    col = citeseek.build(sample_dir, tmp_path / "store", model=HashingEmbedder(),
                         progress=False)
    db = col._live.current.db
    passages = col.passages()
    rows = db.hit_rows([p["chunk_id"] for p in passages])
    assert all(isinstance(row, PassageRow) for row in rows.values())
    assert [asdict(rows[p["chunk_id"]]) for p in passages] == passages
    dated = {d["doc_id"]: d["date"] for d in col.documents()}
    late = db.selection.chunk_ids_matching(date_from="2021-01-01")
    assert {rows[c].doc_id for c in late} == {d for d, date in dated.items()
                                             if date and date >= "2021-01-01"}
    one = next(iter(dated))
    assert {rows[c].doc_id for c in db.selection.chunk_ids_matching(doc_ids=[one])} == {one}
    assert {rows[c].doc_id for c in db.selection.chunk_ids_matching(sources=["*/00[01]_*"])} == \
        {d for d in dated if d.startswith(("000_", "001_"))}
    assert set(db.selection.chunk_ids_outside(one)) == {c for c in rows if rows[c].doc_id != one}
    assert sorted(db.selection.chunk_ids_matching()) == sorted(rows)
