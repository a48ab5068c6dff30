"""Small test questionnaires in YAML: the header and section lines they all share, written once.

`form_yaml("dated", section(ITEMS))` is a one-section form on one page in Vietnamese and English (the loader's
defaults, so those lines are left out); its text is what a questionnaire file holds, for tests that edit it."""

from __future__ import annotations

import textwrap


def section(items: str, key: str = "s", title: str = "{vi: Một, en: One}", repeat: str | None = None) -> str:
    """A section's YAML; `items` are its item lines (`- {key: …}`) at any indent, continuation lines kept."""
    item_lines = "".join(f"      {line}\n" for line in textwrap.dedent(items).strip("\n").splitlines())
    repeat_line = f"    repeat: {repeat}\n" if repeat else ""
    return f"  - key: {key}\n    title: {title}\n{repeat_line}    items:\n{item_lines}"


def form_yaml(key: str, *sections: str, title: str = "{vi: Phiếu, en: Form}", version: str = "1",
              layout: str | None = None) -> str:
    """A questionnaire's YAML: its header, then `sections:` and the sections (no such line without sections)."""
    header = f'key: {key}\nversion: "{version}"\n' + (f"layout: {layout}\n" if layout else "") + f"title: {title}\n"
    return header + ("sections:\n" + "".join(sections) if sections else "")


def demo_yaml(items: str) -> str:
    """The loader tests' questionnaire `demo`: one section, `main`, holding these items."""
    return form_yaml("demo", section(items, "main", "{vi: Chính, en: Main}"), title="{vi: Thử, en: Test}")
