"""What a build reads: the live generation's manifest once, verified, under the lock;
the settings merged from it; and the Builder handed both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from citeseek.engines.builder import Builder
from citeseek.engines.publish import build_collection
from citeseek.engines.settings import PreviousBuild
from citeseek.storage.manifest import Manifest


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Every ``Manifest.read``: the generation folder's name, and whether it hashed."""
    seen: list[tuple[str, bool]] = []
    original = Manifest.read.__func__  # type: ignore[attr-defined]

    def read(cls: type[Manifest], gen_dir: Path, *, verify: bool) -> Manifest:
        seen.append((gen_dir.name, verify))
        return original(cls, gen_dir, verify=verify)

    monkeypatch.setattr(Manifest, "read", classmethod(read))
    return seen


class Recording(Builder):
    """The local builder, keeping what it was started from."""

    started_from: list[Any] = []

    def run(self, sources: Any, report: Any) -> None:
        self.started_from.append(self.previous)
        super().run(sources, report)


def test_a_build_reads_the_live_manifest_once_and_verified(
        sample_dir: Path, tmp_path: Path, build: Any, fake: Any,
        reads: list[tuple[str, bool]]) -> None:
    store = tmp_path / "store"
    build(sample_dir, store, chunk_tokens=40)
    (sample_dir / "new.txt").write_text("A new article about the harbour ferry.\n")
    reads.clear()
    Recording.started_from = []
    built = build_collection([sample_dir], store, model=fake, progress=False,
                             builder_class=Recording)
    assert reads.count(("gen-000001", True)) == 1
    assert [name for name, _ in reads].count("gen-000001") == 1
    assert reads.count(("gen-000002", True)) == 1  # the new one, before it is published
    previous = Recording.started_from[0]
    assert isinstance(previous, PreviousBuild) and previous.name == "gen-000001"
    assert previous.manifest.settings.chunk_tokens == 40  # the settings carried over
    assert built.report.generation == "gen-000002" and built.report.previous == "gen-000001"
    assert Manifest.read(store / "gen-000002", verify=False).settings.chunk_tokens == 40
