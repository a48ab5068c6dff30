"""Vietnamese wording for what the statistics layer writes in English (its notes are also read by the command line
and the JSON API, which stay in English): the pages and the PDF report show these instead."""

from __future__ import annotations

import unicodedata

LANGUAGE_COOKIE = "staff_lang"  # "en": staff pages show their English notes (the switch in the staff menu)

# The start of each English note → what a Vietnamese page says.
DESIGN_NOTES_VI = {
    "all weights are 1": "Mọi phiếu có trọng số 1: coi các phiếu của đợt như một mẫu ngẫu nhiên đơn giản (không chia "
                         "tầng, không hiệu chỉnh quần thể hữu hạn)",
    "weights from Response.weight": "Trọng số lưu theo từng phiếu; các phiếu được coi là rút độc lập có hoàn lại (không "
                                    "lưu tầng hay cụm), nên sai số chuẩn chưa tính việc các phiếu tập trung theo quầy",
}


def design_note_vi(note: str | None) -> str:
    """The design note in Vietnamese; an unknown note is not shown rather than shown in English."""
    return next((vi for start, vi in DESIGN_NOTES_VI.items() if (note or "").startswith(start)), "")


def domain_label(name: str) -> str:
    """'Lĩnh vực Đất đai', but 'Lĩnh vực khác' stays as it is (never 'Lĩnh vực Lĩnh vực khác')."""
    return name if name.casefold().startswith("lĩnh vực") else f"Lĩnh vực {name}"


def search_key(text: str) -> str:
    """Text without accents or case, so "hai long" finds "hài lòng" (đ has no combining mark: mapped by hand)."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(letter for letter in decomposed if not unicodedata.combining(letter))


ROLE_NAMES = {"lanh_dao_phong": "lãnh đạo cấp phòng", "cong_chuc": "công chức", "lanh_dao": "lãnh đạo",
              "vien_chuc": "viên chức"}
MEMBER_STATUS_NAMES = {"invited": "đã mời", "started": "đang trả lời", "completed": "đã gửi", "refused": "từ chối",
                       "replaced": "đã thay", "not_reached": "không liên lạc được",
                       "ineligible": "không đủ điều kiện", "reserve": "dự phòng"}


def role_name(code: str) -> str:
    return ROLE_NAMES.get(str(code), str(code).replace("_", " "))


def stratum_label(stratum: str, unit_names: dict[str, str]) -> str:
    """'unit=SO01, role=cong_chuc' (how sampling/ names a stratum) → 'Sở Nội vụ · công chức'."""
    if str(stratum) == "all":
        return "Toàn bộ mẫu"
    parts = []
    for part in str(stratum).split(", "):
        column, _, value = part.partition("=")
        if not value:
            parts.append(part)
        elif column == "unit":
            parts.append(unit_names.get(value, value))
        elif column == "role":
            parts.append(role_name(value))
        else:
            parts.append(value)
    return " · ".join(parts)
