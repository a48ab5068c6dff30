"""SIPAS satisfaction indices from a scoring map: item → criterion → factor → overall.

Every published figure is a linear combination of item indices, and each item index is a ratio
(weighted satisfied answers / weighted valid answers). We therefore carry, for every node of the
tree, its coefficients over the items: the value is ``coefficients @ item_indices`` and, when a
design is given, its standard error comes from the same coefficients applied to the items'
linearised values (see docs/method.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from analysis.shares import node_share

SATISFIED_MINIMUM = 4  # "hài lòng" (4) and "rất hài lòng" (5) count as satisfied
VALID_RATINGS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class CriterionIndex:
    """Index of one criterion (mean of its items' indices), as a percentage."""

    key: str
    label: dict | None
    value: float | None
    valid_count: int
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class FactorIndex:
    """Index of one factor: equal-weight mean of its criteria that have valid answers."""

    key: str
    label: dict | None
    value: float | None
    criteria: list[CriterionIndex] = field(default_factory=list)
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass(frozen=True)
class IndexResult:
    """Overall index, factor and criterion indices, and the number of responses behind them."""

    overall: float | None
    factors: list[FactorIndex]
    response_count: int
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    scoring_key: str | None = None

    def to_dict(self) -> dict:
        """Plain JSON-able dict (lists, str, float, int, None only)."""
        result = asdict(self)
        for factor in result["factors"]:
            for criterion in factor["criteria"]:
                criterion["items"] = list(criterion["items"])
        return result


@dataclass(frozen=True)
class _ItemTable:
    """Per-item weighted counts, the raw material of every index."""

    keys: list[str]
    satisfied_weight: np.ndarray
    valid_weight: np.ndarray
    valid_count: np.ndarray

    def indices(self) -> np.ndarray:
        """Item indices as shares 0..1, NaN where an item has no valid (weighted) answer."""
        with np.errstate(invalid="ignore", divide="ignore"):
            share = self.satisfied_weight / self.valid_weight
        return np.where(self.valid_weight > 0, share, np.nan)


def compute_indices(
    answers: pd.DataFrame,
    scoring: dict,
    weights: pd.Series | None = None,
    design=None,
    confidence: float = 0.95,
) -> IndexResult:
    """SIPAS indices (percent) for item → criterion → factor → overall, per the scoring map.

    With ``design`` (an ``analysis.design.SurveyDesign`` whose rows match ``answers``), weights come
    from the design and every index carries a linearised SE and a logit confidence interval.
    """
    response_weights = _response_weights(answers, weights, design)
    item_keys = scoring_items(scoring)
    ratings = rating_matrix(answers, item_keys)
    return _indices_for_rows(scoring, item_keys, ratings, response_weights, design, None, None, confidence)


def compute_indices_by(
    answers: pd.DataFrame,
    scoring: dict,
    groups: str | pd.Series,
    weights: pd.Series | None = None,
    design=None,
    confidence: float = 0.95,
) -> dict:
    """Indices for every level of ``groups`` (unit, level, procedure domain, ...): ``{level: IndexResult}``.

    Groups are domains of the whole design: SEs use every stratum and PSU of the design, as if the
    rows outside the group were zeroed, not dropped.
    """
    labels = answers[groups] if isinstance(groups, str) else pd.Series(groups)
    if len(labels) != len(answers) or labels.isna().any():
        raise ValueError("groups must give one non-missing label per response; recode missing ones (e.g. 'unknown').")
    response_weights = _response_weights(answers, weights, design)
    item_keys = scoring_items(scoring)
    ratings = rating_matrix(answers, item_keys)
    layouts = _layouts(design)
    codes, levels = pd.factorize(labels.to_numpy(), sort=True)
    rows_by_code = np.split(np.argsort(codes, kind="stable"), np.cumsum(np.bincount(codes, minlength=len(levels)))[:-1])
    return {
        _plain(level): _indices_for_rows(scoring, item_keys, ratings, response_weights, design, rows, layouts, confidence)
        for level, rows in zip(levels, rows_by_code)
    }


def _indices_for_rows(scoring, item_keys, ratings, weights, design, rows, layouts, confidence) -> IndexResult:
    """Indices from the given rows (all when ``rows`` is None); variance over the whole design."""
    chosen_ratings = ratings if rows is None else ratings[rows]
    chosen_weights = weights if rows is None else weights[rows]
    table = _item_table(item_keys, chosen_ratings, chosen_weights)
    tree = _build_tree(scoring, table)
    uncertainty = None
    if design is not None:
        from analysis.sipas_variance import node_uncertainty

        uncertainty = node_uncertainty(tree, table, chosen_ratings, chosen_weights, design, rows, layouts, confidence)
    return _assemble(scoring, tree, len(chosen_ratings), uncertainty)


def _response_weights(answers: pd.DataFrame, weights, design) -> np.ndarray:
    if design is None:
        return _checked_weights(weights, answers)
    if weights is not None:
        raise ValueError("Give either weights or design, not both: the design already holds the weights.")
    if design.row_count != len(answers):
        raise ValueError(f"The design has {design.row_count} rows but answers has {len(answers)}; build the design from the same responses.")
    return design.weights


def _layouts(design):
    if design is None or design.calibrations:
        return None
    from analysis.variance import stage_layouts

    return stage_layouts(design)


def _plain(level):
    """numpy scalars → Python scalars, so results stay JSON-able."""
    return level.item() if hasattr(level, "item") else level


def scoring_items(scoring: dict) -> list[str]:
    """Every item key named in the scoring map, in order of first appearance."""
    keys: dict[str, None] = {}
    for factor in _factors(scoring):
        for criterion in factor.get("criteria", []):
            for item in criterion.get("items", []):
                keys[item] = None
    return list(keys)


def rating_matrix(answers: pd.DataFrame, item_keys: list[str]) -> np.ndarray:
    """Ratings as a float matrix (responses × items); items absent from the frame are all NaN."""
    ratings = np.full((len(answers), len(item_keys)), np.nan)
    for position, key in enumerate(item_keys):
        if key in answers.columns:
            column = pd.to_numeric(answers[key], errors="coerce").to_numpy(dtype=float)
            _check_ratings(key, answers[key], column)
            ratings[:, position] = column
    return ratings


def _check_ratings(key: str, raw: pd.Series, column: np.ndarray) -> None:
    # A stray 0 or 9 usually means an N/A code that was not recoded; refuse rather than miscount.
    unparsable = raw.notna().to_numpy() & np.isnan(column)
    bad = ~np.isnan(column) & ~np.isin(column, VALID_RATINGS)
    if unparsable.any() or bad.any():
        examples = sorted(set(raw[unparsable | bad].astype(str)))[:5]
        raise ValueError(
            f"Item {key!r} has values outside 1..5: {examples}. "
            "Recode 'không áp dụng / không biết' (N/A) and blanks to NaN before computing indices."
        )


def _checked_weights(weights: pd.Series | None, answers: pd.DataFrame) -> np.ndarray:
    if weights is None:
        return np.ones(len(answers))
    if len(weights) != len(answers):
        raise ValueError(f"weights has {len(weights)} values but answers has {len(answers)} rows; give one weight per response.")
    if isinstance(weights, pd.Series) and not weights.index.equals(answers.index):
        if not answers.index.isin(weights.index).all():
            raise ValueError("weights' index does not match answers' index; align them or pass weights.to_numpy().")
        weights = weights.reindex(answers.index)
    values = np.asarray(weights, dtype=float)
    if np.isnan(values).any() or (values < 0).any() or np.isinf(values).any():
        raise ValueError("weights must be finite and >= 0 for every response (0 excludes a response); fix or drop the rows.")
    return values


def _item_table(item_keys: list[str], ratings: np.ndarray, weights: np.ndarray) -> _ItemTable:
    valid = ~np.isnan(ratings)
    satisfied = valid & (np.nan_to_num(ratings) >= SATISFIED_MINIMUM)
    return _ItemTable(
        keys=item_keys,
        satisfied_weight=weights @ satisfied,
        valid_weight=weights @ valid,
        valid_count=valid.sum(axis=0),
    )


@dataclass(frozen=True)
class _Node:
    """Coefficients of one index over the item indices (all zero: no valid answers)."""

    coefficients: np.ndarray

    @property
    def has_value(self) -> bool:
        return bool(self.coefficients.any())


@dataclass(frozen=True)
class _Tree:
    overall: _Node
    factors: list[_Node]
    criteria: list[list[_Node]]
    item_indices: np.ndarray
    valid_counts: dict


def _build_tree(scoring: dict, table: _ItemTable) -> _Tree:
    item_indices = table.indices()
    position = {key: index for index, key in enumerate(table.keys)}
    criteria_nodes, factor_nodes = [], []
    for factor in _factors(scoring):
        nodes = [_criterion_node(criterion, position, item_indices) for criterion in factor.get("criteria", [])]
        criteria_nodes.append(nodes)
        factor_nodes.append(_mean_node(nodes, len(item_indices)))
    overall = _mean_node(factor_nodes, len(item_indices))
    valid_counts = dict(zip(table.keys, table.valid_count.tolist()))
    return _Tree(overall, factor_nodes, criteria_nodes, item_indices, valid_counts)


def _criterion_node(criterion: dict, position: dict, item_indices: np.ndarray) -> _Node:
    coefficients = np.zeros(len(item_indices))
    answered = [position[item] for item in criterion.get("items", []) if not np.isnan(item_indices[position[item]])]
    for item_position in answered:
        coefficients[item_position] += 1 / len(answered)
    return _Node(coefficients)


def _mean_node(children: list[_Node], item_count: int) -> _Node:
    """Equal-weight mean of the children that have a value; children with none are left out."""
    with_value = [child.coefficients for child in children if child.has_value]
    if not with_value:
        return _Node(np.zeros(item_count))
    return _Node(np.mean(with_value, axis=0))


def _assemble(scoring: dict, tree: _Tree, response_count: int, uncertainty) -> IndexResult:
    factors = []
    for factor, factor_node, criterion_nodes in zip(_factors(scoring), tree.factors, tree.criteria):
        criteria = [
            _criterion_result(criterion, node, tree, uncertainty)
            for criterion, node in zip(factor.get("criteria", []), criterion_nodes)
        ]
        factors.append(FactorIndex(factor["key"], factor.get("label"), _percent(factor_node, tree), criteria, **_interval(factor_node, uncertainty)))
    return IndexResult(
        overall=_percent(tree.overall, tree),
        factors=factors,
        response_count=int(response_count),
        scoring_key=scoring.get("key"),
        **_interval(tree.overall, uncertainty),
    )


def _criterion_result(criterion: dict, node: _Node, tree: _Tree, uncertainty) -> CriterionIndex:
    items = tuple(criterion.get("items", []))
    return CriterionIndex(
        key=criterion["key"],
        label=criterion.get("label"),
        value=_percent(node, tree),
        # Valid answers summed over the criterion's items (for the usual one-item criterion, its count).
        valid_count=int(sum(tree.valid_counts.get(item, 0) for item in items)),
        items=items,
        **_interval(node, uncertainty),
    )


def _percent(node: _Node, tree: _Tree) -> float | None:
    if not node.has_value:
        return None
    return 100 * node_share(node.coefficients, tree.item_indices)


def _interval(node: _Node, uncertainty) -> dict:
    if uncertainty is None or not node.has_value:
        return {}
    return uncertainty(node)


def _factors(scoring: dict) -> list[dict]:
    if "factors" not in scoring:
        raise ValueError("The scoring map has no 'factors' list; expected {'factors': [{'key', 'criteria': [...]}]}.")
    return scoring["factors"]
