"""A PDF written with survey_app.core.pdf keeps Vietnamese letters, read back by a PDF text extractor."""

import unicodedata

from pypdf import PdfReader

from survey_app.core.pdf import vietnamese_pdf

SENTENCE = "Chỉ số hài lòng về sự phục vụ hành chính: Đắk Lắk, Thừa Thiên Huế, Bà Rịa – Vũng Tàu"


def test_vietnamese_text_survives_a_round_trip(tmp_path):
    document = vietnamese_pdf()
    document.add_page()
    document.multi_cell(0, 8, SENTENCE, new_x="LMARGIN", new_y="NEXT")
    document.set_font(style="B")
    document.multi_cell(0, 8, "Ưu tiên: ơ ư ă â ê ô đ — Ấ Ầ Ẩ Ẫ Ậ ỳ ỷ ỹ ỵ", new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "vi.pdf"
    document.output(str(path))

    text = unicodedata.normalize("NFC", "".join(page.extract_text() for page in PdfReader(path).pages))
    assert SENTENCE in text.replace("\n", " ")
    assert "Ấ Ầ Ẩ Ẫ Ậ ỳ ỷ ỹ ỵ" in text
