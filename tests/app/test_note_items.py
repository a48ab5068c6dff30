"""A note on the phone form (its text, no input), on paper (plain text, no number, no box) and in the exports
(no column)."""

from __future__ import annotations

import io
from pathlib import Path

import jinja2
from pypdf import PdfReader

from survey_app.core.templating import label, piped
from survey_app.exports.codebook import answer_columns
from survey_app.paper.printing import PrintedCopy, paper_pdf
from tests.questionnaires.test_notes import noted

TEMPLATES = Path(__file__).resolve().parents[2] / "survey_app" / "templates"


def rendered(item) -> str:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    environment.filters.update(label=label, piped=piped)
    return environment.get_template("_item.html").render(item=item, errors={}, values={"thanks": "x"}, lang="vi")


def test_the_phone_form_shows_a_note_as_text_without_an_input():
    page = rendered(noted().item("thanks"))
    assert '<p class="note-text">Cảm ơn lần đến của ông/bà.</p>' in page
    assert "data-show-if=\"visited == 'co'\"" in page.replace("&#39;", "'")
    assert "<input" not in page and "<textarea" not in page and "<label" not in page and "name=" not in page


def test_paper_prints_a_note_as_plain_text_and_numbers_only_questions():
    pdf = paper_pdf(noted(), "Đợt thử", "Sở Nội vụ", [PrintedCopy(1, "https://example.test/p/x")])
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Xin cảm ơn ông/bà đã tham gia. Phiếu mất 5 phút." in text
    assert "Câu 1. Đã đến chưa" in text and "Câu 2. Vì sao" in text and "Câu 3" not in text


def test_a_note_has_no_export_column():
    assert [column.variable.name for column in answer_columns([noted()])] == ["visited", "why"]
