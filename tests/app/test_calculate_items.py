"""A calculate item on the phone form (nothing shown; an item whose condition reads it is left to the server), on
paper (not printed) and in the exports (a column with the computed value)."""

from __future__ import annotations

import io

from pypdf import PdfReader

from questionnaires import load_definition
from survey_app.exports.codebook import answer_columns
from survey_app.paper.printing import PrintedCopy, paper_pdf
from tests.app.test_piped_labels import rendered
from tests.questionnaires.test_calculate import CALCULATED


def test_the_phone_form_shows_no_calculation_and_leaves_conditions_on_it_to_the_server():
    definition = load_definition(CALCULATED)
    assert rendered(definition.item("household"), definition, {"household": "6"}).strip() == ""
    why = rendered(definition.item("why_big"), definition, {})
    assert 'id="item-why_big"' in why and "data-show-if" not in why and "data-required" not in why
    assert 'data-show-if' in rendered(definition.item("why_big"), None, {})  # no definition: as written


def test_paper_does_not_print_a_calculation():
    definition = load_definition(CALCULATED)
    pdf = paper_pdf(definition, "Đợt thử", "Sở Nội vụ", [PrintedCopy(1, "https://example.test/p/x")])
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Câu 4. Vì sao … người?" in text and "Số người" not in text and "Hộ lớn" not in text


def test_a_calculation_is_exported_with_its_computed_value():
    definition = load_definition(CALCULATED)
    clean, _ = definition.validate_answers({"adults": "4", "children": "2"})
    columns = {column.variable.name: column for column in answer_columns([definition])}
    assert ["household", "big", "pet_count"] == [name for name in columns if name in ("household", "big", "pet_count")]
    assert columns["household"].encode(clean["household"]) == "6" and columns["big"].encode(clean["big"]) == "lon"
