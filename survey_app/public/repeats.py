"""A repeat's member blocks on the phone form: posted fields `members.N.key` ↔ a list of per-member dicts, and
how many blocks the page shows (the count asked for, else what was shown, plus one when "Thêm" was pressed)."""

from __future__ import annotations

import re

from questionnaires.standard import MAX_MEMBERS

MEMBER_FIELD = re.compile(r"(\d{1,3})\.")


def posted_members(fields: dict[str, list], section) -> list[dict]:
    """One raw dict per shown block (the hidden `key._count` says how many; else the highest number posted)."""
    prefix = section.key + "."
    numbers = [int(match.group(1)) for name in fields if name.startswith(prefix)
               for match in [MEMBER_FIELD.match(name, len(prefix))] if match]
    count = _whole(fields.get(prefix + "_count"))
    count = min(count if count is not None else max(numbers, default=0), 200)  # a forged count cannot cost much
    return [{item.key: _values(fields, f"{prefix}{number}.{item.key}", item.type) for item in section.items}
            for number in range(1, count + 1)]


def _values(fields: dict[str, list], name: str, item_type: str):
    values = fields.get(name, [])
    return values if item_type == "multiple" else (values[0] if values else "")


def _whole(values) -> int | None:
    text = values[0] if values else None
    return int(text) if isinstance(text, str) and text.isdecimal() and len(text) < 4 else None


def flat_values(raw: dict, definition) -> dict:
    """The raw answers with each member's answers under its field name, as the page shows them again."""
    flat = {key: value for key, value in raw.items() if not isinstance(value, list) or not value
            or not isinstance(value[0], dict)}
    for section in definition.repeats:
        for number, member in enumerate(raw.get(section.key) or [], start=1):
            flat.update({f"{section.key}.{number}.{key}": value for key, value in member.items()})
    return flat


def member_blocks(definition, raw: dict, more: str | None = None) -> dict[str, int]:
    """Repeat key → the number of blocks to show: the count the answers ask for, else the blocks shown (at least
    the minimum, at least one) plus one for the repeat whose "Thêm" was pressed; never above the maximum."""
    blocks, answers = {}, None
    for section in definition.repeats:
        repeat, shown = section.repeat, len(raw.get(section.key) or [])
        if isinstance(repeat.count, str) and answers is None:  # the count item's clean (or computed) answer
            answers = definition.validate_answers(raw)[0]
        expected = repeat.expected_count(answers or {})
        if expected is None:
            expected = max(shown + (1 if more == section.key else 0), repeat.minimum or 0, 1)
        blocks[section.key] = min(expected, repeat.maximum if repeat.maximum is not None else MAX_MEMBERS,
                                  MAX_MEMBERS)
    return blocks


def errors_of(section, errors: dict) -> dict:
    """The errors about a section's questions (for a repeat: its count and every member's fields)."""
    if section.repeat:
        return {key: text for key, text in errors.items()
                if key == section.key or key.startswith(section.key + ".")}
    return {item.key: errors[item.key] for item in section.items if item.key in errors}
