"""Fixed vocabulary: item types, layouts, languages and the standard 5-point scales with their N/A answer."""

from __future__ import annotations

ITEM_TYPES = ("single", "multiple", "rating5", "integer", "decimal", "text", "date", "time", "datetime", "unit",
              "domain", "dossier_code", "note", "calculate")
DISPLAY_TYPES = ("note",)  # shown text only: never an answer, never required, no export column
NOT_ASKED_TYPES = ("note", "calculate")  # nothing typed: a calculate is computed by the server and stored
CHOICE_TYPES = ("single", "multiple")
LAYOUTS = ("single_page", "paged")
LANGUAGES = ("vi", "en")
NOT_APPLICABLE = "na"
DEFAULT_TEXT_LENGTH = 2000
DEFAULT_CODE_LENGTH = 64
SCORING_RULES = ("share_4_5",)

NOT_APPLICABLE_LABEL = {"vi": "Không áp dụng / Không biết", "en": "Not applicable / Don't know"}

RATING_SCALES: dict[str, list[dict[str, str]]] = {
    "satisfaction": [
        {"vi": "Rất không hài lòng", "en": "Very dissatisfied"},
        {"vi": "Không hài lòng", "en": "Dissatisfied"},
        {"vi": "Bình thường", "en": "Neutral"},
        {"vi": "Hài lòng", "en": "Satisfied"},
        {"vi": "Rất hài lòng", "en": "Very satisfied"},
    ],
    "agreement": [
        {"vi": "Hoàn toàn không đồng ý", "en": "Strongly disagree"},
        {"vi": "Không đồng ý", "en": "Disagree"},
        {"vi": "Phân vân", "en": "Neither agree nor disagree"},
        {"vi": "Đồng ý", "en": "Agree"},
        {"vi": "Hoàn toàn đồng ý", "en": "Strongly agree"},
    ],
    "quality": [
        {"vi": "Rất kém", "en": "Very poor"},
        {"vi": "Kém", "en": "Poor"},
        {"vi": "Trung bình", "en": "Fair"},
        {"vi": "Tốt", "en": "Good"},
        {"vi": "Rất tốt", "en": "Very good"},
    ],
}
DEFAULT_SCALE = "satisfaction"
MAX_MEMBERS = 50  # members of one repeat a page shows and the server takes
