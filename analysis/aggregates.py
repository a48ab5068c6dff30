"""SIPAS indices and their standard errors from stored sums instead of every answer (docs/scaling.md).

A campaign's design treats each response as its own PSU drawn with replacement, with no strata (the product stores
no clusters). For a group D of responses and item j, R_j = Σ w s_j / Σ w v_j (s: satisfied, v: valid), and an index
with coefficients c over the items has linearised values z_i = w_i Σ_j a_j (s_ij − R_j v_ij), a_j = c_j / Σ_D w v_j.
Σ_D z_i is exactly 0, so its variance n/(n−1) Σ (z_i − z̄)² is n/(n−1) Σ_D z_i², n the responses of the whole design:

    Σ_D z_i² = aᵀ (SS − SV·R − (SV·R)ᵀ + VV ∘ R Rᵀ) a,   SS_jk = Σ w² s_j s_k, SV_jk = Σ w² s_j v_k, VV_jk = Σ w² v_j v_k

Every sum is additive over responses, so sums kept per campaign × unit × domain add up to any unit, subtree, level,
domain or the province, and give the same index, SE and CI as `analysis.sipas` on the raw answers.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np

from analysis.sipas import (
    SATISFIED_MINIMUM, VALID_RATINGS, IndexResult, _assemble, _build_tree, _ItemTable, scoring_items,
)
from analysis.sipas_variance import _interval


@dataclass(frozen=True)
class RatingSums:
    """Additive sums over a set of responses (J items): what an index, its SE and the rating spread need."""

    responses: int
    valid_count: np.ndarray  # J: answers rated 1..5
    valid_weight: np.ndarray  # J: Σ w v
    satisfied_weight: np.ndarray  # J: Σ w s
    satisfied_squares: np.ndarray  # J × J: Σ w² s_j s_k
    satisfied_valid_squares: np.ndarray  # J × J: Σ w² s_j v_k
    valid_squares: np.ndarray  # J × J: Σ w² v_j v_k
    rating_counts: np.ndarray  # J × 5: answers rated 1 … 5 (unweighted, for the spread chart)
    weight_total: float = 0.0  # Σ w and Σ w² over responses: both equal to `responses` only when every w is 1
    weight_squares_total: float = 0.0

    def __add__(self, other: RatingSums) -> RatingSums:
        return RatingSums(*(mine + theirs for mine, theirs in zip(self._parts(), other._parts())))

    def __sub__(self, other: RatingSums) -> RatingSums:
        return RatingSums(*(mine - theirs for mine, theirs in zip(self._parts(), other._parts())))

    @property
    def all_weights_one(self) -> bool:
        # Σ w = Σ w² = n holds only when every weight is 1 (Cauchy–Schwarz)
        return bool(np.isclose(self.weight_total, self.responses) and np.isclose(self.weight_squares_total, self.responses))

    def _parts(self) -> tuple:
        return (self.responses, self.valid_count, self.valid_weight, self.satisfied_weight, self.satisfied_squares,
                self.satisfied_valid_squares, self.valid_squares, self.rating_counts, self.weight_total,
                self.weight_squares_total)

    @property
    def item_count(self) -> int:
        return len(self.valid_count)

    def encoded(self) -> str:
        """Exact float64 bytes as base64 text (stored in a Text column both engines have)."""
        flat = np.concatenate([np.ravel(np.asarray(part, dtype=float)) for part in self._parts()])
        return base64.b64encode(flat.astype("<f8").tobytes()).decode("ascii")

    @classmethod
    def decoded(cls, text: str, item_count: int) -> RatingSums:
        flat = np.frombuffer(base64.b64decode(text), dtype="<f8")
        sizes = (1, item_count, item_count, item_count, item_count ** 2, item_count ** 2, item_count ** 2,
                 item_count * 5, 1, 1)
        if len(flat) != sum(sizes):
            raise ValueError(f"stored sums hold {len(flat)} numbers; {sum(sizes)} expected for {item_count} items")
        parts = np.split(flat, np.cumsum(sizes)[:-1])
        shapes = ((), (item_count,), (item_count,), (item_count,), (item_count, item_count),
                  (item_count, item_count), (item_count, item_count), (item_count, 5), (), ())
        responses, *arrays, weight_total, weight_squares_total = [part.reshape(shape) for part, shape in zip(parts, shapes)]
        return cls(int(responses), *arrays, float(weight_total), float(weight_squares_total))

    @classmethod
    def empty(cls, item_count: int) -> RatingSums:
        square = np.zeros((item_count, item_count))
        return cls(0, np.zeros(item_count), np.zeros(item_count), np.zeros(item_count), square, square, square,
                   np.zeros((item_count, 5)))


def rating_sums(ratings: np.ndarray, weights: np.ndarray) -> RatingSums:
    """The sums of a set of responses: `ratings` responses × items (1..5 or NaN), one weight per response."""
    ratings = np.asarray(ratings, dtype=float)
    weights = np.asarray(weights, dtype=float)
    valid = ~np.isnan(ratings)
    satisfied = (valid & (np.nan_to_num(ratings) >= SATISFIED_MINIMUM)).astype(float)
    valid = valid.astype(float)
    squared = (weights ** 2)[:, None]
    return RatingSums(
        responses=len(ratings),
        valid_count=valid.sum(axis=0),
        valid_weight=weights @ valid,
        satisfied_weight=weights @ satisfied,
        satisfied_squares=(satisfied * squared).T @ satisfied,
        satisfied_valid_squares=(satisfied * squared).T @ valid,
        valid_squares=(valid * squared).T @ valid,
        rating_counts=np.column_stack([(ratings == rating).sum(axis=0) for rating in VALID_RATINGS]).astype(float),
        weight_total=float(weights.sum()),
        weight_squares_total=float((weights ** 2).sum()),
    )


def grouped_rating_sums(ratings: np.ndarray, weights: np.ndarray, group_codes: np.ndarray) -> dict[int, RatingSums]:
    """Sums per group code (e.g. one code per unit × domain cell)."""
    order = np.argsort(group_codes, kind="stable")
    codes, starts = np.unique(group_codes[order], return_index=True)
    bounds = list(starts[1:]) + [len(order)]
    return {int(code): rating_sums(ratings[order[start:end]], weights[order[start:end]])
            for code, start, end in zip(codes, starts, bounds)}


def indices_from_sums(sums: RatingSums, scoring: dict, design_responses: int,
                      confidence: float = 0.95) -> IndexResult:
    """SIPAS indices with SE and CI for the group the sums cover, as a domain of a design of `design_responses`
    responses (each its own PSU, with replacement): equal to analysis.sipas.compute_indices_by on the raw answers."""
    item_keys = scoring_items(scoring)
    if sums.item_count != len(item_keys):
        raise ValueError(f"sums hold {sums.item_count} items but the scoring map names {len(item_keys)}")
    table = _ItemTable(item_keys, sums.satisfied_weight, sums.valid_weight, sums.valid_count.astype(int))
    tree = _build_tree(scoring, table)
    uncertainty = _uncertainty(tree, table, sums, design_responses, confidence) if design_responses > 1 else None
    return _assemble(scoring, tree, sums.responses, uncertainty)


def _uncertainty(tree, table: _ItemTable, sums: RatingSums, design_responses: int, confidence: float):
    nodes = [tree.overall, *tree.factors, *[node for criteria in tree.criteria for node in criteria]]
    coefficients = np.column_stack([node.coefficients for node in nodes])  # J × nodes
    shares = np.nan_to_num(table.indices())
    denominators = np.where(table.valid_weight > 0, table.valid_weight, np.inf)
    scaled = coefficients / denominators[:, None]
    cross = sums.satisfied_valid_squares * shares[None, :]
    moments = sums.satisfied_squares - cross - cross.T + sums.valid_squares * np.outer(shares, shares)
    variances = design_responses / (design_responses - 1) * np.einsum("jn,jk,kn->n", scaled, moments, scaled)
    errors = np.sqrt(np.clip(variances, 0, None))
    values = coefficients.T @ shares
    intervals = {id(node): _interval(value, error, confidence) for node, value, error in zip(nodes, values, errors)}
    return lambda node: intervals[id(node)]


def rating_spread(sums: RatingSums, scoring: dict) -> dict[str, np.ndarray]:
    """Per factor, the share (percent) of its valid answers rated 1 … 5 (unweighted), as charts.rating_shares."""
    position = {key: index for index, key in enumerate(scoring_items(scoring))}
    spread = {}
    for factor in scoring["factors"]:
        items = [position[item] for criterion in factor["criteria"] for item in criterion["items"]]
        counts = sums.rating_counts[items].sum(axis=0)
        spread[factor.get("label", {}).get("vi", factor["key"])] = counts / counts.sum() * 100 if counts.sum() else counts
    return spread
