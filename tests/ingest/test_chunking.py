from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citeseek.config import Settings
from citeseek.document import Document
from citeseek.embed.hashing import HashingEmbedder
from citeseek.ingest.chunking import chunk_document
from citeseek.sentences import sentence_spans


def make_doc(text: str, title: str | None = "A title") -> Document:
    return Document(doc_id="d", source="d.txt", text=text, title=title)


def test_sentence_spans_respect_abbreviations() -> None:
    text = "Mr. Smith went to the U.S. in 2019. He stayed! Then\nhe left."
    spans = [text[s:e] for s, e in sentence_spans(text)]
    assert spans == ["Mr. Smith went to the U.S. in 2019.", "He stayed!", "Then", "he left."]


def test_chunks_fit_the_model_and_overlap() -> None:
    fake = HashingEmbedder(max_seq_length=40)
    text = " ".join(f"Sentence number {i} talks about topic {i % 7} here." for i in range(60))
    doc = make_doc(text)
    chunks = chunk_document(doc, fake, Settings(overlap_tokens=10))
    assert len(chunks) > 5
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        assert fake.count_tokens([c.embed_text])[0] <= fake.max_seq_length
        assert c.embed_text.startswith("A title\n")
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.start < a.end  # overlap carried over
        assert b.end > a.end  # and progress made


def test_one_enormous_sentence_is_split_not_truncated() -> None:
    fake = HashingEmbedder(max_seq_length=32)
    text = " ".join(f"word{i}" for i in range(1000))
    doc = make_doc(text, title=None)
    chunks = chunk_document(doc, fake, Settings(overlap_tokens=0))
    covered = "".join(c.text + " " for c in chunks).split()
    assert covered == text.split()  # every word is in exactly one chunk
    assert all(fake.count_tokens([c.embed_text])[0] <= 32 for c in chunks)


def test_title_prefix_can_be_turned_off() -> None:
    fake = HashingEmbedder()
    doc = make_doc("Short text here.")
    (chunk,) = chunk_document(doc, fake, Settings(embed_title=False))
    assert chunk.embed_text == "Short text here."


_alphabet = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\n")
_line = st.text(alphabet=_alphabet, max_size=120)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(_line, min_size=1, max_size=30), size=st.integers(8, 64),
       overlap=st.integers(0, 12), title=st.one_of(st.none(), st.text(max_size=40)))
def test_property_offsets_and_lines_are_exact(lines, size, overlap, title) -> None:
    text = "\n".join(lines)
    line_map = [3 * i + 1 for i in range(len(lines))]  # as if lines were dropped between
    doc = Document(doc_id="p", source="p.txt", text=text, title=title or None,
                   line_map=line_map)
    fake = HashingEmbedder(max_seq_length=size + 2)
    chunks = chunk_document(doc, fake, Settings(overlap_tokens=min(overlap, size - 1)))
    source_lines = {n: line for n, line in zip(line_map, lines, strict=True)}
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        assert c.text.strip() == c.text and c.text
        assert fake.count_tokens([c.embed_text])[0] <= fake.max_seq_length
        assert c.line_start <= c.line_end
        for piece in c.text.split("\n"):
            if piece:
                holders = [n for n in range(c.line_start, c.line_end + 1)
                           if n in source_lines and piece in source_lines[n]]
                assert holders, (piece, c.line_start, c.line_end)
    nonblank = "".join(text.split())
    if nonblank:
        assert chunks, "text with content produced no chunk"
