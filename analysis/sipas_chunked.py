"""SIPAS indices with standard errors from per-PSU sums accumulated chunk by chunk (memory independent of responses).

For every (group, PSU) pair the accumulator keeps, per item, Σ w·satisfied, Σ w·valid and the count of valid
answers — 3 × items numbers, whatever the number of responses. That is all the Taylor variance of a one-stage
(stratified, PSU-clustered) design needs: the PSU total of item j's linearised value is
(S_pj − R_j V_pj) / V_j, every index is a fixed combination of item indices, and the variance is
Σ_h (1 − f_h) n_h/(n_h − 1) Σ_i (t_hi − t̄_h)² over every PSU of the design (a group is a domain: PSUs without its
rows count with total zero). Later sampling stages are not used (R's "ultimate cluster" variance, exact for
with-replacement PSUs); it equals ``sipas.compute_indices`` on a design built with the same strata, PSUs and fpc.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from analysis.sipas import IndexResult, _assemble, _build_tree, _ItemTable, _plain, rating_matrix, scoring_items
from analysis.sipas_variance import _interval

SATISFIED_MINIMUM = 4


@dataclass(frozen=True)
class Columns:
    """Column names in every chunk: stratum (optional), PSU, weight (optional), group (optional), fpc (optional)."""

    psu: str
    stratum: str | None = None
    weight: str | None = None
    group: str | None = None
    fpc: str | None = None  # population PSUs of the stratum (> 1) or the sampling fraction (≤ 1)


class SipasAccumulator:
    """Feed chunks with ``add``; ``results`` gives the overall indices and one IndexResult per group."""

    def __init__(self, scoring: dict, columns: Columns):
        self.scoring, self.columns = scoring, columns
        self.items = scoring_items(scoring)
        self.psus = _Codes("PSU")
        self.strata = _Codes("stratum")
        self.groups = _Codes("group")
        self.psu_stratum: dict[int, int] = {}
        self.stratum_fpc: dict[int, float] = {}
        self.pair_keys = pd.Index([], dtype=np.int64)
        self.sums = np.zeros((0, 3 * len(self.items)))
        self.rows = np.zeros(0, dtype=np.int64)

    def add(self, chunk: pd.DataFrame) -> None:
        """Accumulate one chunk (any number of rows); ratings are checked as in ``sipas.rating_matrix``."""
        psu = self.psus.codes(_required(chunk, self.columns.psu))
        stratum = self.strata.codes(chunk[self.columns.stratum]) if self.columns.stratum else np.zeros(len(chunk), dtype=np.int64)
        self._check_nesting(psu, stratum)
        self._record_fpc(chunk, stratum)
        group = self.groups.codes(chunk[self.columns.group]) if self.columns.group else np.zeros(len(chunk), dtype=np.int64)
        weights = _weights(chunk, self.columns.weight)
        ratings = _ratings(chunk, self.items)
        keys = group.astype(np.int64) * (1 << 32) + psu
        codes, unique_keys = pd.factorize(keys)
        # Sort the rows by pair once, then sum each pair's block of rows (np.add.reduceat): ~10× faster than a
        # bincount per item and column.
        order = np.argsort(codes, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(codes[order]) != 0])
        sorted_ratings, sorted_weights = ratings[order], weights[order][:, None]
        valid = ~np.isnan(sorted_ratings)
        satisfied = sorted_ratings >= SATISFIED_MINIMUM  # NaN compares False
        block = np.hstack([np.add.reduceat(satisfied * sorted_weights, starts, axis=0),
                           np.add.reduceat(valid * sorted_weights, starts, axis=0),
                           np.add.reduceat(valid, starts, axis=0, dtype=np.float64)])
        self._merge(np.asarray(unique_keys, dtype=np.int64), block, np.diff(np.r_[starts, len(codes)]))

    def results(self, confidence: float = 0.95) -> tuple[IndexResult, dict]:
        """(indices over every row, {group: indices}); SEs from the accumulated PSU sums."""
        layout = self._layout()
        group_of_pair = np.asarray(self.pair_keys, dtype=np.int64) >> 32
        psu_of_pair = np.asarray(self.pair_keys, dtype=np.int64) & ((1 << 32) - 1)
        overall = self._indices(self._psu_sums(psu_of_pair, np.ones(len(psu_of_pair), dtype=bool)), self.rows.sum(), layout, confidence)
        by_group = {}
        for code, label in enumerate(self.groups.labels):
            mine = group_of_pair == code
            by_group[_plain(label)] = self._indices(self._psu_sums(psu_of_pair, mine), self.rows[mine].sum(), layout, confidence)
        return overall, by_group

    # ---------------------------------------------------------------------------------------------- internals
    def _merge(self, keys: np.ndarray, block: np.ndarray, rows: np.ndarray) -> None:
        positions = self.pair_keys.get_indexer(keys)
        new = positions < 0
        if new.any():
            positions[new] = len(self.pair_keys) + np.arange(int(new.sum()))
            self.pair_keys = self.pair_keys.append(pd.Index(keys[new]))
            self.sums = np.vstack([self.sums, np.zeros((int(new.sum()), self.sums.shape[1]))])
            self.rows = np.concatenate([self.rows, np.zeros(int(new.sum()), dtype=np.int64)])
        self.sums[positions] += block  # keys are unique within a chunk
        self.rows[positions] += rows

    def _check_nesting(self, psu: np.ndarray, stratum: np.ndarray) -> None:
        """Every PSU in one stratum, within the chunk and across chunks."""
        pairs = pd.unique(psu.astype(np.int64) * (1 << 32) + stratum)
        pair_psu, pair_stratum = pairs >> 32, pairs & ((1 << 32) - 1)
        repeated = pd.Index(pair_psu).duplicated()
        if repeated.any():
            code = int(pair_psu[repeated][0])
            raise ValueError(f"PSU {self.psus.labels[code]!r} appears in several strata: PSU ids must be nested in strata.")
        for code, stratum_code in zip(pair_psu.tolist(), pair_stratum.tolist()):
            known = self.psu_stratum.setdefault(code, stratum_code)
            if known != stratum_code:
                raise ValueError(f"PSU {self.psus.labels[code]!r} appears in strata {self.strata.labels[known]!r} and "
                                 f"{self.strata.labels[stratum_code]!r}: PSU ids must be nested in strata.")

    def _record_fpc(self, chunk: pd.DataFrame, stratum: np.ndarray) -> None:
        if not self.columns.fpc:
            return
        values = pd.to_numeric(chunk[self.columns.fpc], errors="coerce").to_numpy(dtype=float)
        if np.isnan(values).any() or (values <= 0).any():
            raise ValueError(f"fpc column {self.columns.fpc!r} has missing or non-positive values.")
        for code, value in pd.Series(values).groupby(stratum).agg(["min", "max"]).iterrows():
            if _varies(value):
                raise ValueError(f"fpc column {self.columns.fpc!r} varies within stratum {self.strata.labels[code]!r}.")
            known = self.stratum_fpc.setdefault(int(code), float(value["min"]))
            if abs(known - value["min"]) > 1e-9 * max(1.0, known):
                raise ValueError(f"fpc column {self.columns.fpc!r} varies within stratum {self.strata.labels[code]!r}.")

    def _layout(self) -> "_Layout":
        psu_count = len(self.psus.labels)
        psu_stratum = np.array([self.psu_stratum[code] for code in range(psu_count)], dtype=np.int64)
        sizes = np.bincount(psu_stratum, minlength=len(self.strata.labels)).astype(float)
        fraction = np.zeros(len(sizes))
        for code, value in self.stratum_fpc.items():
            fraction[code] = value if value <= 1 else sizes[code] / value
        lonely = np.flatnonzero((sizes == 1) & (fraction < 1))
        if len(lonely):
            raise ValueError(f"Stratum {self.strata.labels[int(lonely[0])]!r} has only one PSU: its variance cannot be estimated; "
                             "merge it with a neighbouring stratum.")
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(sizes > 1, (1 - fraction) * sizes / (sizes - 1), 0.0)
        return _Layout(psu_stratum, sizes, scale)

    def _psu_sums(self, psu_of_pair: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        """PSUs × (3·items) sums for the chosen pairs (PSUs without them stay zero)."""
        sums = np.zeros((len(self.psus.labels), self.sums.shape[1]))
        np.add.at(sums, psu_of_pair[chosen], self.sums[chosen])
        return sums

    def _indices(self, psu_sums: np.ndarray, response_count: int, layout: "_Layout", confidence: float) -> IndexResult:
        count = len(self.items)
        satisfied, valid, valid_count = psu_sums[:, :count], psu_sums[:, count:2 * count], psu_sums[:, 2 * count:]
        table = _ItemTable(self.items, satisfied.sum(axis=0), valid.sum(axis=0), valid_count.sum(axis=0).round().astype(int))
        tree = _build_tree(self.scoring, table)
        nodes = [tree.overall, *tree.factors, *[node for criteria in tree.criteria for node in criteria]]
        coefficients = np.column_stack([node.coefficients for node in nodes])
        shares = np.nan_to_num(table.indices())
        denominators = np.where(table.valid_weight > 0, table.valid_weight, np.inf)
        psu_totals = ((satisfied - shares * valid) / denominators) @ coefficients
        errors = np.sqrt(np.clip(layout.variances(psu_totals), 0, None))
        values = coefficients.T @ shares
        intervals = {id(node): _interval(value, error, confidence) for node, value, error in zip(nodes, values, errors)}
        return _assemble(self.scoring, tree, int(response_count), lambda node: intervals[id(node)])


@dataclass(frozen=True)
class _Layout:
    psu_stratum: np.ndarray
    sizes: np.ndarray
    scale: np.ndarray

    def variances(self, totals: np.ndarray) -> np.ndarray:
        """Σ_h scale_h Σ_i (t_hi − t̄_h)² per column."""
        strata = len(self.sizes)
        sums = np.column_stack([np.bincount(self.psu_stratum, weights=totals[:, column], minlength=strata) for column in range(totals.shape[1])])
        deviations = totals - (sums / np.maximum(self.sizes, 1)[:, None])[self.psu_stratum]
        return (self.scale[self.psu_stratum][:, None] * deviations**2).sum(axis=0)


class _Codes:
    """Incremental integer codes of labels seen across chunks (the same label keeps its code)."""

    def __init__(self, what: str):
        self.what = what
        self.index = pd.Index([])

    @property
    def labels(self) -> list:
        return self.index.tolist()

    def codes(self, values: pd.Series) -> np.ndarray:
        if values.isna().any():
            raise ValueError(f"The {self.what} column {values.name!r} has missing values (row {int(np.flatnonzero(values.isna().to_numpy())[0])} of the chunk).")
        unique = pd.Index(pd.unique(values))
        new = unique[self.index.get_indexer(unique) < 0]
        if len(new):
            self.index = self.index.append(new)
        return self.index.get_indexer(values).astype(np.int64)


def compute_indices_chunked(chunks: Iterable[pd.DataFrame], scoring: dict, columns: Columns, confidence: float = 0.95) -> tuple[IndexResult, dict]:
    """Indices overall and per group from an iterable of chunks (e.g. ``pd.read_csv(..., chunksize=500_000)``)."""
    accumulator = SipasAccumulator(scoring, columns)
    for chunk in chunks:
        accumulator.add(chunk)
    if not len(accumulator.pair_keys):
        raise ValueError("No responses in the chunks: nothing to compute.")
    return accumulator.results(confidence)


def _varies(value: pd.Series) -> bool:
    return abs(value["max"] - value["min"]) > 1e-9 * max(1.0, abs(value["max"]))


def _ratings(chunk: pd.DataFrame, items: list[str]) -> np.ndarray:
    """Ratings (rows × items); numeric columns are taken as they are and checked at once, others as sipas does."""
    if not all(item in chunk.columns and pd.api.types.is_numeric_dtype(chunk[item].dtype) for item in items):
        return rating_matrix(chunk, items)
    ratings = chunk[items].to_numpy(dtype=float)
    if (~np.isnan(ratings) & ((ratings < 1) | (ratings > 5) | (ratings != np.round(ratings)))).any():
        return rating_matrix(chunk, items)  # names the item and its bad values
    return ratings


def _required(chunk: pd.DataFrame, name: str) -> pd.Series:
    if name not in chunk.columns:
        raise ValueError(f"Column {name!r} is not in the chunk; columns are {list(chunk.columns)[:20]}.")
    return chunk[name]


def _weights(chunk: pd.DataFrame, name: str | None) -> np.ndarray:
    if name is None:
        return np.ones(len(chunk))
    values = pd.to_numeric(_required(chunk, name), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"Weight column {name!r}, row {row} of the chunk: {chunk[name].iloc[row]!r} is not a weight ≥ 0.")
    return values
