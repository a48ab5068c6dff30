"""Versions: a version that has responses never changes; a new version says which items stay comparable."""

from __future__ import annotations

from questionnaires.model import Item, Questionnaire


def same_question(old: Item, new: Item) -> bool:
    """Same key, same type, same answer values: answers of both versions can be pooled."""
    return (old.key == new.key and old.type == new.type and old.choice_values() == new.choice_values()
            and old.scale == new.scale)


def comparable_items(old: Questionnaire, new: Questionnaire) -> list[str]:
    """Keys of the new version comparable with the old: its comparable_with list, else every same question."""
    old_items = {item.key: item for item in old.items}
    if new.comparable_with is not None:
        return [key for key in new.comparable_with.items if key in old_items]
    return [item.key for item in new.items if item.key in old_items and same_question(old_items[item.key], item)]


def version_problems(old: Questionnaire, new: Questionnaire, old_has_responses: bool) -> list[str]:
    """Why `new` cannot replace `old` as it stands; empty when the change is acceptable."""
    if old.key != new.key:
        return [f"the keys differ ('{old.key}' and '{new.key}'): this is another questionnaire, not a version."]
    if old.version == new.version:
        return _same_version_problems(old, new, old_has_responses)
    return _new_version_problems(old, new)


def _same_version_problems(old: Questionnaire, new: Questionnaire, old_has_responses: bool) -> list[str]:
    if old.content_hash == new.content_hash or not old_has_responses:
        return []
    return [f"version '{old.version}' of '{old.key}' already has responses and cannot change. Give the changed "
            f"definition a new version and list the unchanged items under comparable_with."]


def _new_version_problems(old: Questionnaire, new: Questionnaire) -> list[str]:
    if new.comparable_with is None:
        return [f"version '{new.version}' does not say which items are comparable with version '{old.version}'. "
                f"Add comparable_with: {{version: \"{old.version}\", items: [...]}}."]
    problems = []
    if new.comparable_with.version != old.version:
        problems.append(f"comparable_with names version '{new.comparable_with.version}', but the previous "
                        f"version is '{old.version}'.")
    old_items = {item.key: item for item in old.items}
    for key in new.comparable_with.items:
        if key not in old_items:
            problems.append(f"comparable item '{key}' does not exist in version '{old.version}'.")
        elif not same_question(old_items[key], new.item(key)):
            problems.append(f"comparable item '{key}' changed its type or answer values since version "
                            f"'{old.version}'; give it a new key.")
    return problems
