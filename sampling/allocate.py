"""Allocation of a total sample size across strata: equal, proportional, Neyman, and fixed quotas.

Every allocation returns a pandas Series of integer quotas named "quota", indexed by stratum. Rounding
uses the largest-remainder method so the quotas add up to the requested total exactly, and no stratum is
given more than it has members (the excess of a full stratum goes to the others).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from sampling.errors import Problem, raise_if_any, refuse


def allocate_equal(stratum_sizes: Mapping | pd.Series, total: int, minimum: int = 1) -> pd.Series:
    """Split `total` as evenly as possible across strata (capped by each stratum's size)."""
    sizes = _as_sizes(stratum_sizes)
    return _allocate(sizes, pd.Series(1.0, index=sizes.index), total, minimum)


def allocate_proportional(stratum_sizes: Mapping | pd.Series, total: int, minimum: int = 1) -> pd.Series:
    """Split `total` in proportion to stratum sizes N_h."""
    sizes = _as_sizes(stratum_sizes)
    return _allocate(sizes, sizes.astype(float), total, minimum)


def allocate_neyman(
    stratum_sizes: Mapping | pd.Series,
    standard_deviations: Mapping | pd.Series,
    total: int,
    minimum: int = 1,
) -> pd.Series:
    """Neyman allocation: n_h ∝ N_h S_h, which minimises the variance of the stratified mean."""
    sizes = _as_sizes(stratum_sizes)
    deviations = pd.Series(standard_deviations, dtype=float).reindex(sizes.index)
    if deviations.isna().any() or (deviations < 0).any():
        raise refuse("standard_deviations", "Thiếu hoặc âm độ lệch chuẩn của một số tầng.",
                     "every stratum needs a standard deviation ≥ 0.")
    return _allocate(sizes, sizes * deviations, total, minimum)


def allocate_fixed(
    units: Iterable,
    quota_by_role: Mapping[str, int],
    stratum_sizes: Mapping | pd.Series | None = None,
) -> pd.Series:
    """Fixed quotas per unit and role, e.g. 20 departments × {head of division: 5, civil servant: 4} = 180.

    The result is indexed by (unit, role). With `stratum_sizes` (keyed the same way) a quota larger than
    its stratum is refused rather than silently cut.
    """
    index = pd.MultiIndex.from_tuples(
        [(unit, role) for unit in units for role in quota_by_role], names=["unit", "role"]
    )
    quotas = pd.Series([quota_by_role[role] for _, role in index], index=index, name="quota", dtype=int)
    if stratum_sizes is not None:
        _check_fixed_fits(quotas, pd.Series(stratum_sizes))
    return quotas


def largest_remainder(weights: np.ndarray, total: int, capacity: np.ndarray) -> np.ndarray:
    """Integers proportional to `weights`, summing to `total`, each ≤ its `capacity`.

    Ties in the remainders go to the earlier stratum, so the result never depends on chance.
    """
    shares = _capped_shares(np.asarray(weights, float), total, np.asarray(capacity, float))
    quotas = np.floor(shares + 1e-9).astype(int)
    remainders = np.where(quotas < capacity, shares - quotas, -1.0)
    deficit = total - quotas.sum()
    order = np.argsort(-remainders, kind="stable")
    quotas[order[:deficit]] += 1
    return quotas


def _allocate(sizes: pd.Series, weights: pd.Series, total: int, minimum: int) -> pd.Series:
    """Share `total` by weight; strata whose share falls below `minimum` are lifted to it first."""
    _check_total(sizes, total, minimum)
    capacity, weight = sizes.to_numpy(), weights.to_numpy(dtype=float)
    floor = np.minimum(capacity, minimum)
    lifted = np.zeros(len(sizes), dtype=bool)
    while True:
        shares = _capped_shares(np.where(lifted, 0.0, weight), total - floor[lifted].sum(),
                                np.where(lifted, 0, capacity))
        below = ~lifted & (shares < floor)
        if not below.any():
            break
        lifted |= below
    rest = largest_remainder(np.where(lifted, 0.0, weight), total - floor[lifted].sum(),
                             np.where(lifted, 0, capacity))
    return pd.Series(np.where(lifted, floor, rest), index=sizes.index, name="quota")


def _capped_shares(weights: np.ndarray, total: int, capacity: np.ndarray) -> np.ndarray:
    """Real-valued shares ∝ weights; a stratum whose share would exceed its capacity is fixed at it."""
    shares = np.zeros(len(weights))
    open_strata = (capacity > 0) & (weights > 0)
    remaining = float(total)
    while remaining > 0:
        if not open_strata.any():
            raise refuse("allocation", "Không thể phân bổ: các tầng có trọng số dương đã đầy.",
                         "cannot allocate: every stratum with a positive weight is already full.")
        trial = np.where(open_strata, remaining * weights / weights[open_strata].sum(), 0.0)
        full = open_strata & (trial >= capacity)
        if not full.any():
            return np.where(open_strata, trial, shares)
        shares[full] = capacity[full]
        remaining -= capacity[full].sum()
        open_strata &= ~full
    return shares


def _as_sizes(stratum_sizes: Mapping | pd.Series) -> pd.Series:
    sizes = pd.Series(stratum_sizes)
    if sizes.empty:
        raise refuse("stratum_sizes", "Không có tầng nào.", "no strata given.")
    problems = [
        Problem(f"stratum {key!r}", f"Tầng rỗng hoặc cỡ không hợp lệ ({size}).",
                f"stratum is empty or has an invalid size ({size}).")
        for key, size in sizes.items()
        if not (isinstance(size, (int, np.integer)) and size > 0)
    ]
    raise_if_any(problems)
    return sizes.astype(int)


def _check_total(sizes: pd.Series, total: int, minimum: int) -> None:
    if int(total) != total or total < 1:
        raise refuse("total", "Cỡ mẫu phải là số nguyên dương.",
                     f"sample size must be a positive integer, got {total!r}.")
    if total > sizes.sum():
        raise refuse("total", f"Cỡ mẫu {total} lớn hơn tổng thể ({sizes.sum()}).",
                     f"sample size {total} exceeds the population size {sizes.sum()}.")
    floor_total = np.minimum(sizes, minimum).sum()
    if floor_total > total:
        raise refuse("minimum", f"Mức tối thiểu {minimum}/tầng cần {floor_total} > cỡ mẫu {total}.",
                     f"a minimum of {minimum} per stratum needs {floor_total}, more than the total {total}.")


def _check_fixed_fits(quotas: pd.Series, sizes: pd.Series) -> None:
    sizes = sizes.reindex(quotas.index).fillna(0).astype(int)
    problems = [
        Problem(f"stratum {key!r}", f"Chỉ tiêu {quota} nhưng khung mẫu chỉ có {size} người.",
                f"quota {quota} but only {size} in the frame.")
        for key, quota, size in zip(quotas.index, quotas, sizes)
        if quota > size
    ]
    raise_if_any(problems)
