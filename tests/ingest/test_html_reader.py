"""The HTML reader on pages made to show one problem each: text from ``<body>`` only,
exact lines through entities and inline tags, repeats, link lists, timestamp lists,
hover cards, a body split by advertisements, titles and canonical URLs."""

from __future__ import annotations

from pathlib import Path

from citeseek.ingest.formats import read_file
from citeseek.ingest.html import extract_article, page_title, refine
from citeseek.ingest.html_source import scan
from citeseek.ingest.sources import SourceFile

LEAD = ("The council voted on Tuesday to rebuild the old harbour wall before the winter "
        "storms, after engineers found that the stones had moved by a hand's width.")
PARAS = [
    LEAD,
    "Work starts in March and should take eleven weeks, the harbour master said at a "
    "meeting in the town hall that was attended by most of the fishing crews.",
    "The wall was last repaired in 1953, when a storm surge broke through it and flooded "
    "the lower streets of the town for three days and nights.",
    "Fishermen said they welcomed the decision but worried about where their boats would "
    "shelter while the work was under way, since the bay offers little protection.",
]


def page(body: str, head: str = "") -> str:
    return (f"<!DOCTYPE html>\n<html>\n<head>\n<title>Harbour wall to be rebuilt | Coast "
            f"Gazette</title>\n<meta name='description' content='{LEAD}'>\n"
            f"<script type='application/ld+json'>{{\"articleBody\": \"{LEAD}\"}}</script>\n"
            f"{head}</head>\n<body>\n{body}\n</body>\n</html>\n")


def paragraphs(texts: list[str]) -> str:
    return "\n".join(f"<p>{t}</p>" for t in texts)


def read(html: str, name: str = "page.html"):
    docs, skipped = read_file(SourceFile(path=Path(name), doc_id=name), html.encode())
    assert not skipped
    return docs[0]


def test_lines_come_from_the_body_and_entities_and_tags_do_not_move_them() -> None:
    body = ("<article>\n<h1>Harbour wall to be rebuilt</h1>\n<p>The council voted on "
            "Tuesday to rebuild the old harbour wall\nbefore the winter storms, after "
            "<a href='/eng'>engineers</a> found that the stones had moved by a hand&rsquo;s"
            "\nwidth.</p>\n" + paragraphs(PARAS[1:]) + "\n</article>")
    raw = page(body)
    doc = read(raw)
    lines = raw.split("\n")
    start = doc.text.index("The council")
    first, last = doc.lines_for(start, start + len("The council voted"))
    assert "The council voted" in lines[first - 1] and first == last
    end = doc.text.index("width.") + len("width.")
    assert doc.lines_for(start, end) == (first, first + 2)
    assert "width.</p>" in lines[first + 1]
    assert "hand’s" in doc.text  # decoded
    # the lead is also in the head (meta description, JSON-LD): the citation is not
    assert "<meta" not in lines[first - 1] and "ld+json" not in lines[first - 1]
    # line breaks written as references are no line breaks of the file
    for ref in ("&#10;", "&#x0A;", "&NewLine;"):
        raw = page(f"<article>\n<p>The council voted{ref}to rebuild the wall.</p>\n"
                   + paragraphs(PARAS[1:]) + "\n</article>")
        doc = read(raw)
        at = doc.text.index("to rebuild")
        line = doc.lines_for(at, at + 10)[0]
        assert "to rebuild" in raw.split("\n")[line - 1], ref


def test_an_article_carried_twice_is_stored_once() -> None:
    body = ("<article>" + paragraphs(PARAS) + "</article>\n<div class='amp-copy'>"
            + paragraphs(PARAS) + "</div>")
    doc = read(page(body))
    assert doc.text.count("harbour master") == 1
    assert doc.text.count("storm surge") == 1


def test_a_recurring_short_question_between_answers_is_kept() -> None:
    qa = []
    for i, text in enumerate(PARAS):
        qa += ["What did you think of the plan?", f"Answer {i}: {text}"]
    doc = read(page("<article>" + paragraphs(qa) + "</article>"))
    assert doc.text.count("What did you think of the plan?") == len(PARAS)


def test_teaser_lists_and_timestamp_lists_are_not_body_text() -> None:
    teasers = "".join(f"<li><a href='/news/story-{i}'>Another story about boats number {i}"
                      f"</a></li>" for i in range(5))
    times = "".join(f"<p>{h}:{m:02d} pm</p>" for h, m in ((4, 10), (3, 45), (2, 5)))
    body = ("<article>" + paragraphs(PARAS[:2]) + f"<ul>{teasers}</ul>" + times
            + paragraphs(PARAS[2:]) + "</article>")
    doc = read(page(body))
    assert "Another story" not in doc.text
    assert "3:45 pm" not in doc.text
    assert "storm surge" in doc.text and "harbour master" in doc.text


def test_a_link_out_to_a_source_stays_where_links_within_the_site_go() -> None:
    blocks = ("<p><a href='https://council.example.gov/minutes.pdf'>Read the council "
              "minutes</a></p><p><a href='/news/other'>Read another story of ours</a></p>"
              "<p><a href='https://coastgazette.example/n/2'>And one more of ours</a></p>")
    scanned = scan(page(blocks))
    kept = refine(scanned, list(range(len(scanned.blocks))), site="coastgazette.example")
    assert [scanned.blocks[i].text for i in kept] == ["Read the council minutes"]


def test_a_hover_card_inside_a_sentence_is_left_out() -> None:
    card = ("<span class='card'><a href='/people/ann'>Ann Lee</a><a href='/a/1'>Her story "
            "one</a> <a href='/a/2'>Her story two</a> <a href='/a/3'>Her story three</a>"
            "</span>")
    first = ("<p>Harbour master <span class='person'><a href='/people/ann'>Ann Lee</a>"
             f"{card}</span> said the work starts in March and takes eleven weeks.</p>")
    doc = read(page("<article>" + first + paragraphs(PARAS) + "</article>"))
    assert "Harbour master Ann Lee said the work starts" in doc.text
    assert "Her story" not in doc.text


def test_a_body_split_by_advertisements_is_kept_whole() -> None:
    chunk = "<div class='chunk'><div class='body'>{}</div></div>"
    ad = "<div class='ad'><p>Advertisement</p></div>"
    body = ("<div class='chunks'>" + chunk.format(paragraphs(PARAS[:2])) + ad
            + chunk.format(paragraphs(PARAS[2:])) + "</div>")
    doc = read(page(body))
    for text in PARAS:
        assert text in doc.text


def test_title_without_the_site_name_and_canonical_url() -> None:
    head = ("<link rel='canonical' href='https://coastgazette.example/news/harbour-wall'>\n"
            "<meta property='og:site_name' content='Coast Gazette'>\n")
    doc = read(page("<article>" + paragraphs(PARAS) + "</article>", head))
    assert doc.title == "Harbour wall to be rebuilt"
    assert doc.url == "https://coastgazette.example/news/harbour-wall"
    og = "<meta property='og:url' content='https://coastgazette.example/n/1'>\n"
    assert read(page("<article>" + paragraphs(PARAS) + "</article>", og)).url == \
        "https://coastgazette.example/n/1"


def test_page_title_rules() -> None:
    assert page_title("New York State investigating WeWork – TechCrunch",
                      ["techcrunch"]) == "New York State investigating WeWork"
    assert page_title("LinkNaija | Actress wins award", ["linknaija"]) == "Actress wins award"
    assert page_title("Black Friday deals - Remember 80/90 - Memorabilia anni 80/90",
                      ["remember8090"]) == "Black Friday deals"
    assert page_title("Opinion | Republicans Are Following Trump", ["nytimes"]) == \
        "Opinion | Republicans Are Following Trump"
    assert page_title("Spider-Man - the review", ["example"]) == "Spider-Man - the review"


def test_scan_skips_hidden_text_and_comments() -> None:
    raw = ("<html><head><title>x</title></head><body><!-- a comment -->"
           "<p>Shown text</p><p hidden>Hidden one</p><p style='display: none'>Hidden two</p>"
           "<script>var shown = 0;</script><noscript>No script</noscript></body></html>")
    assert [b.text for b in scan(raw).blocks] == ["Shown text"]


def test_a_page_that_is_only_a_menu_has_no_article() -> None:
    menu = "<nav><ul>" + "".join(f"<li><a href='/{i}'>Section {i}</a></li>"
                                 for i in range(12)) + "</ul></nav>"
    assert extract_article(page(menu)) is None
