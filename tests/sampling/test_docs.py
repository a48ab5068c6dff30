"""Every public name of the sampling package is documented in docs/sampling.md."""

from pathlib import Path

import pytest

import sampling

DOCS = (Path(__file__).parents[2] / "docs" / "sampling.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sampling.__all__)
def test_public_name_is_documented(name):
    assert f"`{name}" in DOCS or f"{name}(" in DOCS, f"{name} is missing from docs/sampling.md"
