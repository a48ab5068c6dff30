"""Catalogue of every message the questionnaire package can produce.

Definition problems (for authors) are English and say where and how to fix; answer errors (for respondents)
exist in every supported language. Keeping them here lets tests assert on the same text the code emits.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class Problem:
    """One mistake in a definition file: where it is and what to do about it."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"

    @property
    def message_vi(self) -> str:
        """The message in Vietnamese (for the administration page), the English one where none is written."""
        return getattr(self.message, "vi", "") or self.message

    def text_vi(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message_vi}"


class Message(str):
    """An English definition message that also carries its Vietnamese wording (`vi`)."""

    vi: str

    def __new__(cls, english: str, vietnamese: str) -> "Message":
        message = super().__new__(cls, english)
        message.vi = vietnamese
        return message


class DefinitionError(ValueError):
    """Raised when a definition has problems; carries every one of them, not only the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class Code(str, Enum):
    """Definition problem messages; format with `Code.X.format(**values)`."""

    YAML_SYNTAX = ("the file is not valid YAML: {detail}. Fix the indentation near this line, and quote texts "
                   "that contain ':', '?', ',', '#', '[', ']', '{{' or '}}'.")
    NOT_A_MAPPING = "expected a mapping (key: value lines), found {found}."
    NOT_A_LIST = "expected a list (lines starting with '- '), found {found}."
    NOT_TEXT = "expected text, found {found}. Put the text in quotes if it looks like a number or a date."
    NOT_A_NUMBER = "expected a number, found {found}."
    NOT_A_BOOLEAN = "expected true or false, found {found}."
    MISSING_FIELD = "this field is required. Add '{name}:' here."
    UNKNOWN_FIELD = "unknown field '{name}'. Allowed fields here: {allowed}."
    DUPLICATE_YAML_KEY = "'{name}' appears twice in the same mapping (first on line {first_line}). Keep one."
    BAD_KEY = ("'{value}' is not a valid key. Use lowercase letters, digits and '_', starting with a letter "
               "(for example 'reception_quality').")
    RESERVED_KEY = "'{value}' is a word of the show_if language and cannot be a key. Choose another key."
    DUPLICATE_KEY = "the {what} key '{value}' is already used on line {first_line}. Keys must be unique."
    BAD_VERSION = "version must be text such as \"1\" or \"2024.1\"; found {found}. Put it in quotes."
    LANGUAGES_ORDER = "languages must list 'vi' first (for example [vi, en]); found {found}."
    UNKNOWN_LANGUAGE = "'{value}' is not a language code. Use a BCP 47 code such as vi, en, fr, km, zh-Hant."
    DUPLICATE_LANGUAGE = "'{value}' is listed twice in languages."
    MISSING_TRANSLATION = "missing the '{language}' text. Every text needs one entry per language in 'languages'."
    EXTRA_TRANSLATION = ("'{language}' is not one of the definition's languages ({allowed}). Remove it or add the "
                         "language; if it is part of a text, quote the text (a comma ends a value inside {{ }}).")
    BAD_LAYOUT = "layout must be one of {allowed}; found '{value}'."
    UNKNOWN_TYPE = "unknown item type '{value}'. Use one of: {allowed}."
    CHOICES_REQUIRED = "a '{type}' item needs choices: a list of {{value, label}} or the name of a choice list."
    CHOICES_NOT_ALLOWED = "a '{type}' item takes no 'choices'. Remove the field or change the type."
    UNKNOWN_CHOICE_LIST = "there is no choice list named '{value}'. Defined lists: {allowed}."
    EMPTY_CHOICES = "the choice list is empty. Give at least two choices."
    BAD_CHOICE_VALUE = ("choice value '{value}' is not valid. Use letters, digits, '_', '-' or '.' and no spaces "
                        "(for example 'dat_dai').")
    DUPLICATE_CHOICE = "choice value '{value}' appears twice in this list. Values must be unique."
    FIELD_NOT_FOR_TYPE = "'{name}' does not apply to a '{type}' item. Remove it or change the type."
    BAD_RANGE = "minimum ({minimum}) is greater than maximum ({maximum}). Swap them."
    BAD_DATE_LIMIT = "a date limit is 'today' or a day written yyyy-mm-dd (1900-01-01); found {found}."
    BAD_DATE_RANGE = "earliest ({earliest}) is after latest ({latest}). Swap them."
    BAD_LENGTH = "max_length must be a whole number of at least 1; found {found}."
    BAD_PATTERN = "the regular expression cannot be compiled: {detail}. Check brackets and escapes."
    BAD_SCALE = "scale must be one of {allowed}; found '{value}'."
    BAD_APPEARANCE = "appearance must be one of {allowed}; found '{value}'."
    BAD_MAX_CHOICES = "max_choices must be between 1 and the number of choices ({count}); found {found}."
    SHOW_IF_SYNTAX = "cannot parse the expression: {detail}."
    SHOW_IF_UNKNOWN_ITEM = "refers to '{value}', which is not an item key of this questionnaire. Known keys: {known}."
    SHOW_IF_SELF = "an item cannot depend on its own answer. Refer to another item."
    SHOW_IF_NOTE = "'{value}' is a note and never has an answer. Refer to a question."
    NOTE_REQUIRED = ("a '{type}' item is not answered by the respondent and cannot be required. Remove 'required' "
                     "or change the type.")
    CALCULATION_MISSING = "a calculate item needs a 'calculation' (an expression such as '${{a}} + ${{b}}')."
    CALCULATION_BAD = "the calculation '{text}' cannot be computed: {detail}."
    SHOW_IF_CYCLE = "show_if conditions form a cycle: {cycle}. Break it by removing one of the references."
    EMPTY_SECTIONS = "the questionnaire has no items. Add at least one section with items."
    BAD_REPEAT_COUNT = "a repeat's count must be a whole number from 1 to 50 or an item key; found {found}."
    BAD_REPEAT_COUNT_ITEM = ("the repeat count '{value}' is not an integer or calculate item asked once (outside "
                             "repeats). Name such an item, or give a whole number.")
    BAD_MEMBER_LIMIT = "a repeat's minimum and maximum must be whole numbers from 0 to 50; found {found}."
    REPEAT_ITEM_OUTSIDE = ("'{value}' is asked once per member of the repeat '{repeat}'; only items of that repeat "
                           "can refer to it.")
    PIPED_MEMBER_ANSWER = ("a label or hint cannot show a member's answer ('{value}'): the form fills in answers "
                           "asked once only. Write the text without it.")
    REPEAT_KEY_TAKEN = ("the repeat's key '{value}' is also a question's key; the answers would overwrite each other. "
                        "Give the repeat a key of its own.")
    REPEAT_COLUMN_TAKEN = ("the question '{value}' has the name of an export column of the repeat '{repeat}' "
                           "({repeat}_N_…); its answers would be lost in exports. Rename the question.")
    SCORING_UNKNOWN_ITEM = "'{value}' is not an item key of this questionnaire."
    SCORING_NOT_RATING = "item '{value}' is a '{type}' item; only rating5 items can be scored."
    SCORING_ITEM_TWICE = "item '{value}' is already scored in criterion '{first}'. Score each item once."
    BAD_RULE = "rule must be one of {allowed}; found '{value}'."
    BAD_MAX_POINTS = "max_points must be a positive number; found {found}."
    COMPARABLE_UNKNOWN_ITEM = "comparable item '{value}' is not an item of this version."
    COMPARABLE_SAME_VERSION = "comparable_with.version '{value}' is this definition's own version. Name the old one."
    DUPLICATE_VERSION = ("version '{version}' of '{key}' is also defined in {other} with different content. "
                         "Give one of them a new version.")
    XLSFORM_MISSING_SHEET = "the workbook has no '{sheet}' sheet. Add it (sheets found: {found})."
    XLSFORM_MISSING_COLUMN = "the '{sheet}' sheet has no '{column}' column in its first row. Add it."
    XLSFORM_UNKNOWN_LIST = "select from the choice list '{value}', which the 'choices' sheet does not define."
    XLSFORM_BAD_EXPRESSION = "'{text}' is not a valid expression: {detail}. Fix it in the workbook."
    XLSFORM_UNKNOWN_REFERENCE = ("'{text}' refers to ${{{name}}}, which no row of the survey sheet names. Check the "
                                 "spelling (names are case-sensitive).")
    XLSFORM_DROPPED_REFERENCE = ("'{text}' refers to ${{{name}}}, a '{kind}' row that is not imported as a question; "
                                 "the condition could not be kept.")
    XLSFORM_SELF_REFERENCE = "'{text}' refers to the question itself; a relevant must depend on other questions."
    XLSFORM_NOT_KEPT = ("{column} '{text}' uses {part}, which this system cannot keep; the form is refused rather "
                        "than imported without it. Simplify the expression or remove it.")
    XLSFORM_UNSUPPORTED = ("{what} is not supported; the form is refused rather than imported without it. "
                           "Remove it or rewrite it as {instead}.")
    XLSFORM_UNSUPPORTED_TYPE = ("question type '{kind}' ('{name}') is not supported, so its answers would be lost; "
                                "the form is refused. Supported types: {allowed}.")
    FILE_UNREADABLE = "cannot read the file: {detail}."
    YAML_TOO_DEEP = ("tệp lồng nhau quá {limit} cấp; the file nests more than {limit} levels deep. A definition "
                     "needs a handful: check the indentation.")
    YAML_TOO_LARGE = ("tệp có hơn {limit} giá trị (kể cả các lần lặp qua alias *); the file holds more than {limit} "
                      "values once its aliases (*name) are expanded. Write the values out, or split the file.")
    NOT_NFC = "the text is not in Unicode NFC form. Save the file with composed Vietnamese characters."

    def format(self, **values: object) -> str:  # type: ignore[override]
        vietnamese = CODE_VI.get(self.name)
        return Message(self.value.format(**values), vietnamese.format(**values) if vietnamese else "")


def message(english: str, vietnamese: str) -> "Message":
    """A definition message written on the spot in both languages."""
    return Message(english, vietnamese)


# The same messages in Vietnamese, for the administrator who uploads a questionnaire on the web.
CODE_VI = {
    "YAML_SYNTAX": ("tệp không phải YAML hợp lệ: {detail}. Sửa thụt lề gần dòng này, và đặt trong dấu nháy những "
                    "câu chữ có ':', '?', ',', '#', '[', ']', '{{' hoặc '}}'."),
    "NOT_A_MAPPING": "cần một bảng (các dòng khóa: giá trị), nhưng gặp {found}.",
    "NOT_A_LIST": "cần một danh sách (các dòng bắt đầu bằng '- '), nhưng gặp {found}.",
    "NOT_TEXT": "cần chữ, nhưng gặp {found}. Đặt trong dấu nháy nếu trông như số hoặc ngày.",
    "NOT_A_NUMBER": "cần một số, nhưng gặp {found}.",
    "NOT_A_BOOLEAN": "cần true hoặc false, nhưng gặp {found}.",
    "MISSING_FIELD": "thiếu trường bắt buộc. Thêm '{name}:' vào đây.",
    "UNKNOWN_FIELD": "trường '{name}' không được biết. Các trường dùng được ở đây: {allowed}.",
    "DUPLICATE_YAML_KEY": "'{name}' xuất hiện hai lần trong cùng một bảng (lần đầu ở dòng {first_line}). Giữ một.",
    "BAD_KEY": ("'{value}' không phải khóa hợp lệ. Dùng chữ thường không dấu, chữ số và '_', bắt đầu bằng chữ "
                "(ví dụ 'reception_quality')."),
    "RESERVED_KEY": "'{value}' là từ của ngôn ngữ show_if, không dùng làm khóa được. Chọn khóa khác.",
    "DUPLICATE_KEY": "khóa {what} '{value}' đã dùng ở dòng {first_line}. Các khóa phải khác nhau.",
    "BAD_VERSION": "version phải là chữ như \"1\" hoặc \"2024.1\"; gặp {found}. Đặt trong dấu nháy.",
    "LANGUAGES_ORDER": "languages phải có 'vi' đứng đầu (ví dụ [vi, en]); gặp {found}.",
    "UNKNOWN_LANGUAGE": "'{value}' không phải mã ngôn ngữ. Dùng mã BCP 47 như vi, en, fr, km, zh-Hant.",
    "DUPLICATE_LANGUAGE": "'{value}' xuất hiện hai lần trong languages.",
    "MISSING_TRANSLATION": "thiếu nội dung '{language}'. Mỗi câu chữ cần một mục cho mỗi ngôn ngữ trong 'languages'.",
    "EXTRA_TRANSLATION": ("'{language}' không thuộc các ngôn ngữ của định nghĩa ({allowed}). Bỏ đi hoặc thêm ngôn "
                          "ngữ; nếu là một phần câu chữ, đặt câu trong dấu nháy (dấu phẩy kết thúc giá trị trong {{ }})."),
    "BAD_LAYOUT": "layout phải là một trong {allowed}; gặp '{value}'.",
    "UNKNOWN_TYPE": "loại câu hỏi '{value}' không được biết. Dùng một trong: {allowed}.",
    "CHOICES_REQUIRED": "câu hỏi loại '{type}' cần choices: danh sách {{value, label}} hoặc tên một danh sách lựa chọn.",
    "CHOICES_NOT_ALLOWED": "câu hỏi loại '{type}' không có 'choices'. Bỏ trường này hoặc đổi loại.",
    "UNKNOWN_CHOICE_LIST": "không có danh sách lựa chọn tên '{value}'. Các danh sách đã có: {allowed}.",
    "EMPTY_CHOICES": "danh sách lựa chọn trống. Cần ít nhất hai lựa chọn.",
    "BAD_CHOICE_VALUE": ("giá trị lựa chọn '{value}' không hợp lệ. Dùng chữ không dấu, chữ số, '_', '-' hoặc '.' và "
                         "không có khoảng trắng (ví dụ 'dat_dai')."),
    "DUPLICATE_CHOICE": "giá trị lựa chọn '{value}' xuất hiện hai lần trong danh sách. Các giá trị phải khác nhau.",
    "FIELD_NOT_FOR_TYPE": "'{name}' không dùng cho câu hỏi loại '{type}'. Bỏ trường này hoặc đổi loại.",
    "BAD_RANGE": "minimum ({minimum}) lớn hơn maximum ({maximum}). Đổi chỗ hai số.",
    "BAD_DATE_LIMIT": "giới hạn ngày là 'today' (hôm nay) hoặc một ngày viết yyyy-mm-dd (1900-01-01); gặp {found}.",
    "BAD_DATE_RANGE": "earliest ({earliest}) sau latest ({latest}). Đổi chỗ hai ngày.",
    "BAD_LENGTH": "max_length phải là số nguyên từ 1 trở lên; gặp {found}.",
    "BAD_PATTERN": "biểu thức chính quy không dịch được: {detail}. Kiểm tra ngoặc và ký tự thoát.",
    "BAD_SCALE": "scale phải là một trong {allowed}; gặp '{value}'.",
    "BAD_APPEARANCE": "appearance phải là một trong {allowed}; gặp '{value}'.",
    "BAD_MAX_CHOICES": "max_choices phải từ 1 đến số lựa chọn ({count}); gặp {found}.",
    "SHOW_IF_SYNTAX": "không đọc được biểu thức: {detail}.",
    "SHOW_IF_UNKNOWN_ITEM": "nhắc tới '{value}', không phải khóa câu hỏi của phiếu này. Các khóa có: {known}.",
    "SHOW_IF_SELF": "câu hỏi không thể phụ thuộc vào chính câu trả lời của nó. Nhắc tới câu hỏi khác.",
    "SHOW_IF_NOTE": "'{value}' là một ghi chú, không bao giờ có câu trả lời. Hãy nhắc tới một câu hỏi.",
    "NOTE_REQUIRED": "câu loại '{type}' không do người trả lời điền nên không thể bắt buộc. Bỏ 'required' hoặc đổi loại.",
    "CALCULATION_MISSING": "câu loại calculate cần 'calculation' (một biểu thức như '${{a}} + ${{b}}').",
    "CALCULATION_BAD": "phép tính '{text}' không tính được: {detail}.",
    "SHOW_IF_CYCLE": "các điều kiện show_if tạo thành vòng: {cycle}. Bỏ một tham chiếu để phá vòng.",
    "EMPTY_SECTIONS": "phiếu hỏi không có câu hỏi nào. Thêm ít nhất một phần có câu hỏi.",
    "BAD_REPEAT_COUNT": "số lần lặp (count) phải là số nguyên từ 1 đến 50 hoặc khóa một câu hỏi; gặp {found}.",
    "BAD_REPEAT_COUNT_ITEM": ("số lần lặp '{value}' không phải câu hỏi loại integer hoặc calculate được hỏi một lần "
                              "(ngoài nhóm lặp). Ghi khóa một câu như vậy, hoặc một số nguyên."),
    "BAD_MEMBER_LIMIT": "minimum và maximum của nhóm lặp phải là số nguyên từ 0 đến 50; gặp {found}.",
    "REPEAT_ITEM_OUTSIDE": ("'{value}' được hỏi cho từng thành viên của nhóm lặp '{repeat}'; chỉ các câu trong nhóm "
                            "lặp đó mới nhắc tới được."),
    "PIPED_MEMBER_ANSWER": ("nhãn hoặc gợi ý không hiển thị được câu trả lời của từng thành viên ('{value}'): phiếu "
                            "chỉ điền các câu hỏi một lần. Hãy viết câu chữ không có phần này."),
    "REPEAT_KEY_TAKEN": ("khóa '{value}' của nhóm lặp trùng khóa một câu hỏi; câu trả lời sẽ ghi đè lên nhau. Hãy đặt "
                         "cho nhóm lặp một khóa riêng."),
    "REPEAT_COLUMN_TAKEN": ("câu hỏi '{value}' trùng tên một cột xuất dữ liệu của nhóm lặp '{repeat}' ({repeat}_N_…); "
                            "câu trả lời của nó sẽ mất khi xuất dữ liệu. Hãy đổi tên câu hỏi."),
    "SCORING_UNKNOWN_ITEM": "'{value}' không phải khóa câu hỏi của phiếu này.",
    "SCORING_NOT_RATING": "câu hỏi '{value}' thuộc loại '{type}'; chỉ câu hỏi rating5 mới được tính điểm.",
    "SCORING_ITEM_TWICE": "câu hỏi '{value}' đã được tính điểm trong tiêu chí '{first}'. Mỗi câu chỉ tính một lần.",
    "BAD_RULE": "rule phải là một trong {allowed}; gặp '{value}'.",
    "BAD_MAX_POINTS": "max_points phải là số dương; gặp {found}.",
    "COMPARABLE_UNKNOWN_ITEM": "câu hỏi so sánh '{value}' không có trong phiên bản này.",
    "COMPARABLE_SAME_VERSION": "comparable_with.version '{value}' là chính phiên bản này. Ghi phiên bản cũ.",
    "DUPLICATE_VERSION": ("phiên bản '{version}' của '{key}' cũng được định nghĩa trong {other} với nội dung khác. "
                          "Đặt số phiên bản mới cho một trong hai."),
    "XLSFORM_MISSING_SHEET": "tệp Excel không có trang '{sheet}'. Thêm trang này (các trang có: {found}).",
    "XLSFORM_MISSING_COLUMN": "trang '{sheet}' không có cột '{column}' ở dòng đầu. Thêm cột này.",
    "XLSFORM_UNKNOWN_LIST": "chọn từ danh sách '{value}', nhưng trang 'choices' không có danh sách này.",
    "XLSFORM_BAD_EXPRESSION": "'{text}' không phải biểu thức hợp lệ: {detail}. Sửa trong tệp Excel.",
    "XLSFORM_UNKNOWN_REFERENCE": ("'{text}' nhắc tới ${{{name}}}, nhưng không dòng nào của trang survey có tên này. "
                                  "Kiểm tra chính tả (tên phân biệt chữ hoa, chữ thường)."),
    "XLSFORM_DROPPED_REFERENCE": ("'{text}' nhắc tới ${{{name}}}, một dòng loại '{kind}' không được nhập thành câu "
                                  "hỏi; không giữ được điều kiện."),
    "XLSFORM_SELF_REFERENCE": "'{text}' nhắc tới chính câu hỏi này; điều kiện hiển thị phải dựa vào câu hỏi khác.",
    "XLSFORM_NOT_KEPT": ("{column} '{text}' dùng {part_vi}, hệ thống chưa giữ được; phiếu bị từ chối thay vì nhập mà "
                         "bỏ mất phần này. Hãy viết đơn giản hơn hoặc bỏ đi."),
    "XLSFORM_UNSUPPORTED": ("{what_vi} chưa được hỗ trợ; phiếu bị từ chối thay vì nhập mà bỏ mất phần này. Hãy bỏ đi "
                            "hoặc viết lại thành {instead_vi}."),
    "XLSFORM_UNSUPPORTED_TYPE": ("loại câu hỏi '{kind}' ('{name}') chưa được hỗ trợ nên câu trả lời sẽ bị mất; phiếu "
                                 "bị từ chối. Các loại dùng được: {allowed}."),
    "FILE_UNREADABLE": "không đọc được tệp: {detail}.",
    "NOT_NFC": "chữ chưa ở dạng Unicode NFC. Lưu tệp với chữ tiếng Việt dựng sẵn.",
    "YAML_TOO_DEEP": "tệp lồng nhau quá {limit} cấp; một định nghĩa phiếu hỏi chỉ cần vài cấp: kiểm tra thụt lề.",
    "YAML_TOO_LARGE": ("tệp có hơn {limit} giá trị (kể cả các lần lặp qua alias *). Viết các giá trị ra, hoặc chia "
                       "tệp."),
}


ANSWER_MESSAGES: dict[str, dict[str, str]] = {
    "required": {"vi": "Vui lòng trả lời câu hỏi này.", "en": "This question is required."},
    "not_a_choice": {"vi": "Vui lòng chọn một trong các phương án đã cho.",
                     "en": "Please pick one of the given options."},
    "not_offered": {"vi": "Phương án này không thuộc lựa chọn ở câu trước; vui lòng chọn lại.",
                    "en": "This option does not go with the answer to an earlier question; please choose again."},
    "one_answer_only": {"vi": "Chỉ được chọn một phương án.", "en": "Please pick only one option."},
    "too_many_choices": {"vi": "Chỉ được chọn tối đa {maximum} phương án.",
                         "en": "Please pick at most {maximum} options."},
    "not_an_integer": {"vi": "Vui lòng nhập một số nguyên.", "en": "Please enter a whole number."},
    "not_a_number": {"vi": "Vui lòng nhập một số.", "en": "Please enter a number."},
    "below_minimum": {"vi": "Giá trị phải lớn hơn hoặc bằng {minimum}.",
                      "en": "The value must be at least {minimum}."},
    "above_maximum": {"vi": "Giá trị phải nhỏ hơn hoặc bằng {maximum}.",
                      "en": "The value must be at most {maximum}."},
    "too_long": {"vi": "Nội dung quá dài: tối đa {max_length} ký tự.",
                 "en": "The text is too long: at most {max_length} characters."},
    "bad_date": {"vi": "Vui lòng nhập ngày theo dạng ngày/tháng/năm, ví dụ 25/12/2024.",
                 "en": "Please enter a date as day/month/year, for example 25/12/2024."},
    "bad_time": {"vi": "Vui lòng nhập giờ theo dạng giờ:phút, ví dụ 14:30.",
                 "en": "Please enter a time as hours:minutes, for example 14:30."},
    "bad_datetime": {"vi": "Vui lòng nhập ngày và giờ theo dạng ngày/tháng/năm giờ:phút, ví dụ 25/12/2024 14:30.",
                     "en": "Please enter a date and time as day/month/year hours:minutes, for example 25/12/2024 14:30."},
    "before_earliest": {"vi": "Ngày không được trước {earliest}.", "en": "The date must not be before {earliest}."},
    "after_latest": {"vi": "Ngày không được sau {latest}.", "en": "The date must not be after {latest}."},
    "pattern_mismatch": {"vi": "Giá trị không đúng định dạng yêu cầu.",
                         "en": "The value does not have the expected format."},
    "member": {"vi": "Thành viên {number}: {message}", "en": "Member {number}: {message}"},
    "member_count": {"vi": "Cần đúng {expected} thành viên theo câu trả lời trước; đã có {given}.",
                     "en": "Exactly {expected} members are needed by an earlier answer; {given} given."},
    "too_few_members": {"vi": "Cần ít nhất {minimum} thành viên.", "en": "At least {minimum} members are needed."},
    "too_many_members": {"vi": "Chỉ được tối đa {maximum} thành viên.", "en": "At most {maximum} members are allowed."},
    "bad_code": {"vi": "Mã chỉ gồm chữ, số và các ký tự . _ / -", "en": "A code may contain only letters, digits and . _ / -"},
}


def answer_message(name: str, language: str, **values: object) -> str:
    """The respondent-facing message `name` in `language` (falls back to Vietnamese), NFC-normalised."""
    texts = ANSWER_MESSAGES[name]
    text = texts.get(language, texts["vi"]).format(**values)
    return unicodedata.normalize("NFC", text)
