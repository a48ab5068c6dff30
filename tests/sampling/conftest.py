"""Synthetic frames shared by the sampling tests."""

import numpy as np
import pandas as pd
import pytest


def province_officials(unit_prefix: str, unit_count: int, seed: int = 7) -> pd.DataFrame:
    """A synthetic officials frame: each unit has 12–30 heads of division and 10–60 civil servants."""
    generator = np.random.default_rng(seed)
    rows = []
    for unit_number in range(1, unit_count + 1):
        unit = f"{unit_prefix}{unit_number:02d}"
        for role, low, high in (("head of division", 12, 30), ("civil servant", 10, 60)):
            for person in range(int(generator.integers(low, high))):
                rows.append({"member_id": f"{unit}-{role[:4]}-{person:03d}", "unit": unit, "role": role})
    return pd.DataFrame(rows)


def tiny_frame() -> pd.DataFrame:
    """Twelve officials in two units and two roles: small enough to check a draw by eye."""
    return pd.DataFrame({"member_id": [f"M{number:02d}" for number in range(12)],
                         "unit": ["A"] * 7 + ["B"] * 5,
                         "role": ["head", "staff"] * 6})


TINY_QUOTAS = {("A", "head"): 2, ("A", "staff"): 1, ("B", "head"): 1, ("B", "staff"): 2}


@pytest.fixture
def dossier_frame() -> pd.DataFrame:
    """Dossiers of 6 units over 5 days, with unequal volumes per unit."""
    rows = []
    for unit_number, volume in enumerate([40, 10, 25, 5, 60, 20], start=1):
        for dossier in range(volume * 5):
            rows.append({"member_id": f"U{unit_number}-{dossier:04d}", "unit": f"U{unit_number}",
                         "day": f"2024-03-0{dossier % 5 + 1}"})
    return pd.DataFrame(rows)
