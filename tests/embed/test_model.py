"""The real bundled model on the sample articles: questions whose answer passage must
come back within the top 3."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.model

# (question, expected article, a string the passage must hold)
QUESTIONS = [
    ("How many protesters were killed in November 2019?", "004_4711baa52dff02b9.txt", "1,500"),
    ("Which foundation did the US Treasury sanction?", "002_e43f018c271d3215.txt",
     "Mostazafan Foundation"),
    ("Who chaired the meeting of the Supreme Council of Human Rights Staff?",
     "000_8ec7e9efab969127.txt", "Ejei"),
    ("Which diplomat was sentenced by a Belgian court?", "003_359110e896c45b3d.txt",
     "Assadi"),
    ("How many votes did the 67th UN resolution receive?", "002_e43f018c271d3215.txt", "79"),
    ("What did Amnesty International's report Trampling Humanity describe?",
     "001_4177c0e56a96c8e4.txt", "Trampling Humanity"),
    ("How many people in Iran have died of the coronavirus?", "004_4711baa52dff02b9.txt",
     "182,500"),
    ("Who is the former deputy prosecutor on trial for the 1988 massacre?",
     "000_8ec7e9efab969127.txt", "Hamid Noury"),
    ("How many prisoners were executed in January according to the NCRI?",
     "003_359110e896c45b3d.txt", "27 prisoners"),
]


# Names and rare terms that dense retrieval alone misses: hybrid search must find them.
RARE_TERM_QUESTIONS = [
    ("Which Slovakian MEP spoke at the NCRI virtual conference?", "001_4177c0e56a96c8e4.txt",
     "Štefanec"),
    ("What did Stanislav Polčák say?", "001_4177c0e56a96c8e4.txt", "Polčák"),
    ("Mostazafan Foundation", "002_e43f018c271d3215.txt", "Mostazafan"),
    ("Assadollah Assadi Vienna", "003_359110e896c45b3d.txt", "Assadi"),
]


# (question set, modes that must find each answer passage in the top 3)
CASES = [(q, "hybrid") for q in QUESTIONS] + [(q, "dense") for q in QUESTIONS] + [
    (q, "hybrid") for q in RARE_TERM_QUESTIONS] + [(q, "keyword") for q in RARE_TERM_QUESTIONS]


@pytest.mark.parametrize("case,mode", CASES, ids=[f"{m}-{c[0][:40]}" for c, m in CASES])
def test_answer_passage_in_top_3(real_sample_collection, case, mode):
    question, doc_id, needle = case
    hits = real_sample_collection.search(question, k=3, mode=mode)
    assert any(h.doc_id == doc_id and needle in h.text for h in hits), [
        (h.doc_id, h.text[:80]) for h in hits]


def test_no_passage_exceeds_the_model_limit(real_sample_collection, real_model):
    from citeseek.ingest.chunking import embed_text_for

    texts = [embed_text_for(p["title"], p["text"], real_sample_collection.settings)
             for p in real_sample_collection.passages()]
    counts = real_model.count_tokens(texts)
    assert max(counts) <= real_model.max_seq_length == 256


def test_citations_are_exact_with_real_model(real_sample_collection):
    for hit in real_sample_collection.search("human rights violations", k=10):
        doc = real_sample_collection.document(hit.doc_id)
        assert doc.text[hit.start:hit.end] == hit.text
