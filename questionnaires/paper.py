"""A questionnaire on paper: question numbers, the digit codes printed beside each box, skip instructions in words
derived from `show_if`, and keyed digits turned back into the answers a web form would post.

Pure: the PDF (survey_app/paper/printing.py) and the keying page (survey_app/paper/) both read these, so what
the paper says and what the operator types agree by construction.
"""

from __future__ import annotations

from typing import Mapping

from questionnaires import piping, show_if
from questionnaires.items import Choice, Item
from questionnaires.standard import NOT_APPLICABLE, NOT_ASKED_TYPES

NOT_APPLICABLE_CODE = "9"  # the usual survey code for "don't know / not applicable", after the scale's 1–5
CODED_TYPES = ("single", "multiple", "rating5", "domain")
# "<=" etc. on a number: how the sentence says it ("câu 2 từ 2 trở xuống")
ORDER_WORDS = {"<": "nhỏ hơn {}", "<=": "từ {} trở xuống", ">": "lớn hơn {}", ">=": "từ {} trở lên"}


def keyed_items(questionnaire) -> list[Item]:
    """The items an operator keys, in order: not notes (printed as plain text) nor calculations (computed by the
    server when the entry is stored, never printed)."""
    return [item for item in questionnaire.items if item.type not in NOT_ASKED_TYPES]


def item_numbers(questionnaire) -> dict[str, int]:
    """Item key → its question number (1, 2, …) across sections, as printed and as the keying page shows it;
    notes have no number."""
    return {item.key: number for number, item in enumerate(keyed_items(questionnaire), start=1)}


def printed_text(text: str, numbers: Mapping[str, int]) -> str:
    """A label for paper: a piped answer `${key}` becomes "(câu N)", the question whose answer it shows, or "…"
    for a calculation (not printed)."""
    return piping.REFERENCE.sub(lambda match: f"(câu {numbers[match.group(1)]})" if match.group(1) in numbers
                                else piping.UNANSWERED, text or "")


def is_coded(item: Item) -> bool:
    """Answered by ticking boxes with printed digit codes (rather than writing a number or a text)."""
    return item.type in CODED_TYPES and bool(item.choices)


def answer_codes(item: Item) -> list[tuple[str, Choice]]:
    """(code, choice) for each box: 1, 2, … in order; a rating's "not applicable" is 9."""
    if item.type == "rating5":
        return [(NOT_APPLICABLE_CODE if choice.value == NOT_APPLICABLE else choice.value, choice)
                for choice in item.choices]
    return [(str(number), choice) for number, choice in enumerate(item.choices, start=1)]


def codes_hint(item: Item) -> str:
    """What the operator may type for a coded item, e.g. "1–5; 9 = Không áp dụng / Không biết"."""
    codes = answer_codes(item)
    if item.type == "rating5":
        return f"1–5; {NOT_APPLICABLE_CODE} = {codes[-1][1].label.get('vi', '')}"
    many = " (nhiều mã, cách nhau bởi dấu cách)" if item.type == "multiple" else ""
    return f"1–{len(codes)}{many}"


# --- keyed digits → form values -------------------------------------------------------------------------------

def keyed_to_raw(questionnaire, keyed: Mapping[str, str]) -> tuple[dict, dict]:
    """(form values as the web form posts them, errors by item key in Vietnamese) for what an operator typed:
    codes for boxes (several separated by spaces or commas for multiple choice), text as written."""
    raw, errors = {}, {}
    for item in keyed_items(questionnaire):
        typed = " ".join(str(keyed.get(item.key, "")).split())
        if not is_coded(item):
            raw[item.key] = typed
            continue
        values, unknown = _decoded(item, typed)
        if unknown:
            errors[item.key] = f"Mã {', '.join(unknown)} không có trong câu này (được nhập: {codes_hint(item)})."
        elif item.type == "multiple":
            raw[item.key] = values
        elif len(values) > 1:
            errors[item.key] = "Câu này chỉ chọn một ô: nhập một mã."
        else:
            raw[item.key] = values[0] if values else ""
    return raw, errors


def _decoded(item: Item, typed: str) -> tuple[list[str], list[str]]:
    by_code = {code: choice.value for code, choice in answer_codes(item)}
    parts = [part for part in typed.replace(",", " ").replace(";", " ").split() if part]
    values = [by_code[part.lstrip("0") or "0"] for part in parts if (part.lstrip("0") or "0") in by_code]
    unknown = [part for part in parts if (part.lstrip("0") or "0") not in by_code]
    return values, unknown


def answer_codes_of(item: Item, answer) -> str:
    """A stored answer shown as the codes an operator typed (for the side-by-side differences)."""
    if answer is None or answer == "" or answer == []:
        return "(bỏ trống)"
    if not is_coded(item):
        return str(answer)
    by_value = {choice.value: code for code, choice in answer_codes(item)}
    values = answer if isinstance(answer, list) else [answer]
    return " ".join(by_value.get(str(value), str(value)) for value in values)


# --- skip instructions -----------------------------------------------------------------------------------------

def skip_instructions(questionnaire) -> dict[str, str]:
    """Item key → the sentence printed before it, for the first item of each run of consecutive items that share a
    condition: "Nếu câu 3 là 'Có', trả lời câu 4; nếu không, chuyển sang câu 5"."""
    numbers, items, sentences = item_numbers(questionnaire), keyed_items(questionnaire), {}
    index = 0
    while index < len(items):
        condition = items[index].show_if
        if not condition:
            index += 1
            continue
        end = index
        while end + 1 < len(items) and items[end + 1].show_if == condition:
            end += 1
        sentences[items[index].key] = _sentence(questionnaire, numbers, condition, index + 1, end + 1, len(items))
        index = end + 1
    return sentences


def _sentence(questionnaire, numbers: dict, condition: str, first: int, last: int, total: int) -> str:
    asked = f"câu {first}" if first == last else f"các câu {first}–{last}"
    otherwise = f"chuyển sang câu {last + 1}" if last < total else "bỏ qua và kết thúc phiếu"
    return f"Nếu {condition_words(condition, questionnaire, numbers)}, trả lời {asked}; nếu không, {otherwise}."


def condition_words(condition: str, questionnaire, numbers: dict[str, int] | None = None) -> str:
    """A show_if expression in Vietnamese words, questions by number and choices by their labels."""
    numbers = numbers or item_numbers(questionnaire)
    return _words(show_if.parse(condition), questionnaire, numbers)


def _words(tree, questionnaire, numbers) -> str:
    if isinstance(tree, show_if.Or):
        return " hoặc ".join(_grouped(operand, questionnaire, numbers) for operand in tree.operands)
    if isinstance(tree, show_if.And):
        return " và ".join(_grouped(operand, questionnaire, numbers) for operand in tree.operands)
    if isinstance(tree, show_if.Not):
        if isinstance(tree.operand, show_if.Answered):
            return f"câu {numbers.get(tree.operand.key, tree.operand.key)} bỏ trống"
        return f"không phải ({_words(tree.operand, questionnaire, numbers)})"
    if isinstance(tree, show_if.Answered):
        return f"câu {numbers.get(tree.key, tree.key)} có trả lời"
    return _comparison_words(tree, questionnaire, numbers)


def _grouped(tree, questionnaire, numbers) -> str:
    words = _words(tree, questionnaire, numbers)
    return f"({words})" if isinstance(tree, (show_if.Or, show_if.And)) else words


def _comparison_words(tree: show_if.Compare, questionnaire, numbers) -> str:
    left, right, operator = tree.left, tree.right, tree.operator
    if isinstance(right, show_if.Name) and operator in ("in", "not in") and not isinstance(left, show_if.Name):
        # 'khac' in improve_first: a ticked box of a multiple choice
        verb = "có chọn" if operator == "in" else "không chọn"
        return f"câu {numbers.get(right.key, right.key)} {verb} {_value_words(left, _item(questionnaire, right.key))}"
    if not isinstance(left, show_if.Name):
        return show_if.to_text(tree)  # two literals: rare, said as written
    item, subject = _item(questionnaire, left.key), f"câu {numbers.get(left.key, left.key)}"
    if isinstance(right, show_if.Name):
        return f"{subject} {operator} câu {numbers.get(right.key, right.key)}"
    value = _value_words(right, item)
    if operator in ORDER_WORDS:
        return f"{subject} {ORDER_WORDS[operator].format(value)}"
    return f"{subject} {'là' if operator in ('==', 'in') else 'không phải là'} {value}"


def _item(questionnaire, key: str) -> Item | None:
    try:
        return questionnaire.item(key)
    except KeyError:
        return None


def _value_words(node, item: Item | None) -> str:
    values = node.values if isinstance(node, show_if.ListLiteral) else (node.value,)
    return " hoặc ".join(_one_value(value, item) for value in values)


def _one_value(value, item: Item | None) -> str:
    """A choice by its Vietnamese label in quotes; a rating or a number as the number itself."""
    if item is not None and item.type == "rating5" and value == NOT_APPLICABLE:
        return f"'{item.choices[-1].label.get('vi')}'"
    if item is not None and item.type != "rating5":
        for choice in item.choices:
            if choice.value == str(value):
                return f"'{choice.label.get('vi') or choice.value}'"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) if not isinstance(value, str) else f"'{value}'"
