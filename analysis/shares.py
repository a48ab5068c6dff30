"""The share of an index node, rounded where it is computed so every surface shows the same number."""

from __future__ import annotations

import numpy as np


def node_share(coefficients: np.ndarray, item_indices: np.ndarray) -> float:
    """A node's share 0..1: its mean of item shares, rounded to 12 decimals and kept in [0, 1].

    Floating point makes the mean of three 1.0s 0.9999999999999999: shown as 99.99999999999999 and, with a CI
    computed at 1, a lower bound above the value. Rounding here gives every surface the same exact 100."""
    return clamped_share(float(coefficients @ np.nan_to_num(item_indices)))


def clamped_share(share: float) -> float:
    """Rounded to 12 decimals (floating-point noise) and kept in [0, 1]."""
    return min(max(round(share, 12), 0.0), 1.0)
