"""Documents: PDF pages with text and renderings, office files and e-books split into passages."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from scry.indexer.extract import ExtractionError, extract, split_by_chars
from tests.conftest import CORPUS

DOCS = CORPUS / "documents"

TEXT = (
    "The lighthouse keeper wrote about storms in the north sea. "
    "Every winter the lamp needed new oil and the stairs needed paint. "
) * 3


def test_pdf_page_counts_and_text() -> None:
    ex = extract(DOCS / "pdflatex-4-pages.pdf", side=64)
    assert ex.kind == "pdf" and ex.meta["pages"] == 4
    assert [it.page for it in ex.items] == [1, 2, 3, 4]
    assert all(it.kind == "page" and it.image is not None for it in ex.items)
    assert all(min(it.image.size) == 64 for it in ex.items)  # rendered at the model's size
    assert all(it.text.strip() for it in ex.items)
    one = extract(DOCS / "minimal-document.pdf", side=64)
    assert len(one.items) == 1 and len(one.items[0].text) > 20


def test_pdf_with_image_only_pages_renders_them() -> None:
    ex = extract(DOCS / "imagemagick-images.pdf", side=64)
    assert len(ex.items) == 6
    assert all(it.text == "" and min(it.image.size) >= 32 for it in ex.items)


def test_pdf_right_to_left_text() -> None:
    text = extract(DOCS / "habibi.pdf", side=32).items[0].text
    assert any("\u0600" <= ch <= "\u06ff" for ch in text)


def test_pdf_page_cap_leaves_a_note() -> None:
    ex = extract(DOCS / "pdflatex-4-pages.pdf", side=32, page_cap=2)
    assert [it.page for it in ex.items] == [1, 2]
    assert ex.meta["pages"] == 4 and ex.meta["pages_indexed"] == 2
    assert "first 2 of 4 pages" in ex.note


def test_encrypted_pdf_is_recorded_as_encrypted() -> None:
    with pytest.raises(ExtractionError) as info:
        extract(DOCS / "libreoffice-writer-password.pdf")
    assert info.value.reason.startswith("encrypted")


def test_splitter_from_the_indexer_is_used(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text(TEXT, encoding="utf-8")
    ex = extract(path, lambda text: split_by_chars(text, 60))
    assert len(ex.items) > 3
    for it in ex.items:
        assert it.kind == "passage" and TEXT[it.char_start : it.char_end] == it.text


def test_docx_text_tables_and_properties(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    doc = docx.Document()
    doc.add_heading("Lighthouse report", 1)
    doc.add_paragraph(TEXT)
    table = doc.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "lamp oil"
    table.rows[0].cells[1].text = "40 litres"
    doc.core_properties.title = "Winter maintenance"
    doc.core_properties.author = "A. Keeper"
    path = tmp_path / "report.docx"
    doc.save(path)
    ex = extract(path, lambda text: split_by_chars(text, 100))
    assert ex.kind == "document"
    assert ex.meta["title"] == "Winter maintenance" and ex.meta["author"] == "A. Keeper"
    joined = " ".join(it.text for it in ex.items)
    assert "Lighthouse report" in joined and "40 litres" in joined
    assert len(ex.items) > 1 and ex.items[1].char_start >= ex.items[0].char_end - 1


def test_odt_paragraphs_in_order(tmp_path: Path) -> None:
    pytest.importorskip("odf")
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    doc = OpenDocumentText()
    doc.text.addElement(H(outlinelevel=1, text="Harbour minutes"))
    doc.text.addElement(P(text="First the ferry timetable."))
    doc.text.addElement(P(text="Then the fish market."))
    path = tmp_path / "minutes.odt"
    doc.save(str(path))
    ex = extract(path)
    text = ex.items[0].text
    assert ex.kind == "document"
    assert text.index("Harbour") < text.index("ferry") < text.index("fish market")


def test_pptx_slides_and_notes(tmp_path: Path) -> None:
    pptx = pytest.importorskip("pptx")
    deck = pptx.Presentation()
    for title in ("Quarterly results", "Next year's plans"):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.notes_slide.notes_text_frame.text = f"speaker notes on {title}"
    path = tmp_path / "deck.pptx"
    deck.save(path)
    ex = extract(path)
    assert ex.meta["slides"] == 2
    text = " ".join(it.text for it in ex.items)
    assert "Quarterly results" in text and "speaker notes on Next year's plans" in text


def test_epub_chapters_in_spine_order(tmp_path: Path) -> None:
    path = tmp_path / "book.epub"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        zf.writestr(
            "META-INF/container.xml",
            '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf"/></rootfiles></container>',
        )
        zf.writestr(
            "OEBPS/content.opf",
            '<package xmlns="http://www.idpf.org/2007/opf" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><metadata>'
            "<dc:title>Sea Stories</dc:title><dc:creator>Ann Author</dc:creator></metadata>"
            '<manifest><item id="c2" href="two.xhtml"/><item id="c1" href="one.xhtml"/></manifest>'
            '<spine><itemref idref="c1"/><itemref idref="c2"/></spine></package>',
        )
        zf.writestr("OEBPS/one.xhtml", "<html><body><p>Chapter one: the storm.</p></body></html>")
        zf.writestr("OEBPS/two.xhtml", "<html><body><p>Chapter two: the calm.</p></body></html>")
    ex = extract(path)
    text = ex.items[0].text
    assert ex.meta["title"] == "Sea Stories" and ex.meta["author"] == "Ann Author"
    assert text.index("the storm") < text.index("the calm")


def test_html_text_without_scripts(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Recipes</title><script>var x = 'hidden';</script></head>"
        "<body><h1>Bread</h1><p>Flour, water &amp; salt.</p><style>p{}</style></body></html>",
        encoding="utf-8",
    )
    ex = extract(path)
    assert ex.meta["title"] == "Recipes"
    assert [line for line in ex.items[0].text.splitlines() if line] == [
        "Bread",
        "Flour, water & salt.",
    ]


def test_extensionless_text_is_read_but_binary_is_not(tmp_path: Path) -> None:
    readme = tmp_path / "README"
    readme.write_text("How to sail a small boat, in three steps.\n", encoding="utf-8")
    assert extract(readme).kind == "text"


def test_office_zip_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"\x00" * (300 * 1024 * 1024))
    with pytest.raises(ExtractionError) as info:
        extract(path)
    assert "too large to read safely" in info.value.reason


def test_damaged_office_file_fails_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip file")
    with pytest.raises(ExtractionError) as info:
        extract(path)
    assert "damaged Word file" in info.value.reason
