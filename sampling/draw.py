"""Draws: stratified SRS, systematic, PPS (systematic or Brewer) and multi-stage, all reproducible.

Every draw takes an integer `seed`, recorded in the result, and builds its numpy Generator from it. The
frame is first sorted by a stable key (strata, clusters, optional order, member id, compared as text), so
the same frame and seed give the same sample whatever the input row order or the machine.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sampling.errors import Problem, raise_if_any, refuse
from sampling.sample import Sample
from sampling.selection import (brewer, pps_probabilities, random_keys, systematic_pps,
                                systematic_positions)

METHODS = ("srs", "systematic", "pps_systematic", "pps_brewer")


@dataclass(frozen=True)
class Stage:
    """One stage: the column naming its sampling units, how many per group, and how they are drawn.

    `count` is an int (the same in every group: stratum, or selected unit of the previous stage) or a
    mapping {group key: count}. `size` names a PPS size column; None means the unit's number of frame rows.
    """

    cluster: str
    count: int | Mapping
    method: str = "srs"
    size: str | None = None


@dataclass
class _Outcome:
    selected: np.ndarray
    probability: np.ndarray
    reserve_rank: np.ndarray
    codes: np.ndarray | None = None
    labels: list[str] | None = None


def new_seed() -> int:
    """A fresh random seed to record with a draw (fits in a JavaScript number and a SQL bigint)."""
    return secrets.randbelow(2**53)


def draw_stratified(frame: pd.DataFrame, quotas: int | Mapping, *, seed: int, strata: Sequence[str] = (),
                    id_column: str = "member_id", reserves_per_stratum: int | None = None) -> Sample:
    """Stratified simple random sampling without replacement; `quotas` maps stratum → n_h."""
    return draw_multistage(frame, [Stage(id_column, quotas, "srs")], seed=seed, strata=strata,
                           id_column=id_column, reserves_per_stratum=reserves_per_stratum)


def draw_systematic(frame: pd.DataFrame, quotas: int | Mapping, *, seed: int, strata: Sequence[str] = (),
                    order_by: Sequence[str] = (), id_column: str = "member_id",
                    reserves_per_stratum: int | None = None) -> Sample:
    """Systematic sampling with a random start in each stratum, along `order_by` then member id."""
    return draw_multistage(frame, [Stage(id_column, quotas, "systematic")], seed=seed, strata=strata,
                           order_by=order_by, id_column=id_column, reserves_per_stratum=reserves_per_stratum)


def draw_pps(frame: pd.DataFrame, quotas: int | Mapping, *, size: str, seed: int, strata: Sequence[str] = (),
             method: str = "systematic", id_column: str = "member_id",
             reserves_per_stratum: int | None = None) -> Sample:
    """PPS without replacement, π_i = n x_i / Σx (large units taken with certainty); method systematic or brewer."""
    stage = Stage(id_column, quotas, f"pps_{method}", size)
    return draw_multistage(frame, [stage], seed=seed, strata=strata, id_column=id_column,
                           reserves_per_stratum=reserves_per_stratum)


def draw_multistage(frame: pd.DataFrame, stages: Sequence[Stage], *, seed: int, strata: Sequence[str] = (),
                    order_by: Sequence[str] = (), id_column: str = "member_id",
                    reserves_per_stratum: int | None = None) -> Sample:
    """Multi-stage draw, e.g. units → days → dossiers; π = product of the stage probabilities.

    The last stage must select members (its `cluster` is `id_column`); reserves come from the last stage.
    """
    strata, order_by, stages = list(strata), list(order_by), list(stages)
    _check_design(frame, stages, strata, order_by, id_column)
    sort_key = strata + [stage.cluster for stage in stages[:-1]] + order_by + [id_column]
    rows, generator = sort_frame(frame, sort_key), np.random.default_rng(seed)
    group_columns, stage_records = list(strata), []
    for number, stage in enumerate(stages, start=1):
        rows, outcome, record = _run_stage(rows, stage, group_columns, generator, id_column, number)
        stage_records.append(record)
        group_columns = group_columns + ([stage.cluster] if stage.cluster != id_column else [])
    design = _describe(stages, stage_records, strata, sort_key, id_column, seed)
    return _build_sample(rows, outcome, len(stages), group_columns, design, reserves_per_stratum)


def sort_frame(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Sort by the given columns compared as text (code-point order: the same on every machine)."""
    codes = [pd.factorize(frame[column].astype(str), sort=True)[0] for column in columns]
    order = np.lexsort(codes[::-1])
    return frame.iloc[order].reset_index(drop=True)


def _run_stage(rows, stage, group_columns, generator, id_column, number):
    """Select this stage's units within each group; before the last stage keep only selected units' rows."""
    column = f"stage{number}_inclusion_probability"
    if stage.cluster == id_column:
        outcome, record = _select_units(rows, group_columns, stage, generator)
        return rows.assign(**{column: outcome.probability}), outcome, record
    units = _unit_table(rows, group_columns, stage)
    outcome, record = _select_units(units, group_columns, stage, generator)
    keys = group_columns + [stage.cluster]
    chosen = units.loc[outcome.selected, keys].assign(**{column: outcome.probability[outcome.selected]})
    return rows.merge(chosen, on=keys, how="inner"), outcome, record  # inner merge keeps the left order


def _unit_table(rows, group_columns, stage) -> pd.DataFrame:
    """One row per (group, cluster) in sorted order, with its number of frame rows and its size measure."""
    grouped = rows.groupby(group_columns + [stage.cluster], sort=False)
    units = grouped.size().rename("frame_rows").reset_index()
    if stage.size is None:
        return units.assign(unit_size=units["frame_rows"])
    bounds = grouped[stage.size].agg(["min", "max"]).reset_index(drop=True)
    if (bounds["min"] != bounds["max"]).any():
        raise refuse(f"size {stage.size!r}", "Cỡ của một đơn vị phải giống nhau trên mọi dòng của nó.",
                     f"size column {stage.size!r} must be constant within each {stage.cluster!r}.")
    return units.assign(unit_size=bounds["min"].to_numpy())


def _select_units(units, group_columns, stage, generator):
    """Validate the counts per group, then run the stage's selection method."""
    codes, keys = _group_codes(units, group_columns)
    group_sizes = np.bincount(codes, minlength=len(keys))
    labels = [_label(group_columns, key) for key in keys]
    counts = _counts(stage.count, keys, group_sizes, labels)
    sizes = _unit_sizes(units, stage, codes, labels)
    outcome = SELECTORS[stage.method](codes, group_sizes, counts, sizes, generator)
    outcome.codes, outcome.labels = codes, labels
    record = {"cluster": stage.cluster, "method": stage.method, "size": stage.size,
              "counts": dict(zip(labels, counts.tolist())), "population": dict(zip(labels, group_sizes.tolist()))}
    return outcome, record


def _group_codes(units, group_columns):
    """Group number of each row (groups numbered in sorted order) and each group's key tuple."""
    if not group_columns:
        return np.zeros(len(units), dtype=int), [()]
    codes = units.groupby(group_columns, sort=False).ngroup().to_numpy()
    firsts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    return codes, list(units[group_columns].iloc[firsts].itertuples(index=False, name=None))


def _label(group_columns, key) -> str:
    if not group_columns:
        return "all"
    return ", ".join(f"{column}={value}" for column, value in zip(group_columns, key))


def _as_key(key) -> tuple:
    return key if isinstance(key, tuple) else (key,)


def _counts(count, keys, group_sizes, labels) -> np.ndarray:
    """Per-group counts; refuses empty strata, missing or zero quotas, and quotas larger than the group."""
    if isinstance(count, (Mapping, pd.Series)):
        lookup = {_as_key(key): value for key, value in dict(count).items()}
        known = set(keys)
        problems = [Problem(f"stratum {_label_from_key(key)}", f"Chỉ tiêu {value} nhưng tầng rỗng (không có ai).",
                            f"quota {value} but the stratum is empty (no members in the frame).")
                    for key, value in lookup.items() if key not in known]
        values = [lookup.get(key) for key in keys]
    else:
        problems, values = [], [count] * len(keys)
    problems += [problem for label, value, size in zip(labels, values, group_sizes)
                 for problem in _count_problems(label, value, size)]
    raise_if_any(problems)
    return np.array(values, dtype=int)


def _label_from_key(key: tuple) -> str:
    return " / ".join(str(part) for part in key)


def _count_problems(label, value, size) -> list[Problem]:
    where = f"stratum {label}"
    if value is None:
        return [Problem(where, f"Tầng có {size} người nhưng không có chỉ tiêu.",
                        f"{size} members but no quota; give it a quota or leave it out of the frame.")]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        return [Problem(where, f"Chỉ tiêu phải là số nguyên ≥ 1, không phải {value!r}.",
                        f"quota must be a whole number ≥ 1, not {value!r}.")]
    if value > size:
        return [Problem(where, f"Chỉ tiêu {value} nhưng khung mẫu chỉ có {size}; thiếu {value - size}.",
                        f"quota {value} but only {size} in the frame ({value - size} short).")]
    return []


def _unit_sizes(units, stage, codes, labels) -> np.ndarray:
    """PPS size measures (unit_size for clusters, the size column for members); must all be > 0."""
    if not stage.method.startswith("pps"):
        return np.ones(len(units))
    column = "unit_size" if "unit_size" in units else stage.size
    sizes = pd.to_numeric(units[column], errors="coerce").to_numpy(dtype=float) if column else np.ones(len(units))
    bad = ~(np.isfinite(sizes) & (sizes > 0))
    if bad.any():
        examples = units.loc[bad, stage.cluster].head(10).tolist()
        raise refuse(f"size {column!r}", f"Thước đo quy mô PPS phải > 0; có {bad.sum()} đơn vị sai: {examples}",
                     f"PPS size must be > 0; {bad.sum()} unit(s) are not: {examples}")
    return sizes


def _select_srs(codes, group_sizes, counts, sizes, generator) -> _Outcome:
    """SRS in every group at once: one uniform key per unit, the n_h smallest keys are taken."""
    keys = random_keys(len(codes), generator)
    rank = _rank_within_groups(codes, (keys,), group_sizes)
    selected = rank < counts[codes]
    probability = counts[codes] / group_sizes[codes]
    return _Outcome(selected, probability, _reserve_ranks(codes, selected, keys, group_sizes))


def _select_per_group(choose, codes, group_sizes, counts, sizes, generator) -> _Outcome:
    """Run `choose` group by group (groups in sorted order, so the random stream is consumed the same way)."""
    selected, probability = np.zeros(len(codes), dtype=bool), np.zeros(len(codes))
    starts = np.cumsum(group_sizes) - group_sizes
    for start, size, count in zip(starts, group_sizes, counts):
        chosen, probability[start:start + size] = choose(size, count, sizes[start:start + size], generator)
        selected[start + chosen] = True
    keys = random_keys(len(codes), generator)  # reserves: the unselected in a fresh random order
    return _Outcome(selected, probability, _reserve_ranks(codes, selected, keys, group_sizes))


def _choose_systematic(size, count, unit_sizes, generator):
    return systematic_positions(size, count, generator), np.full(size, count / size)


def _choose_pps(select):
    def choose(size, count, unit_sizes, generator):
        probabilities = pps_probabilities(unit_sizes, count)
        return select(probabilities, generator), probabilities
    return choose


def _rank_within_groups(codes, sort_keys, group_sizes) -> np.ndarray:
    """0-based rank of each unit inside its group when ordered by `sort_keys` (last key most significant)."""
    order = np.lexsort(tuple(sort_keys) + (codes,))
    starts = np.cumsum(group_sizes) - group_sizes
    rank = np.empty(len(codes), dtype=int)
    rank[order] = np.arange(len(codes)) - starts[codes[order]]
    return rank


def _reserve_ranks(codes, selected, keys, group_sizes) -> np.ndarray:
    """1-based reserve rank of each unselected unit in its group, by key; 0 for selected units."""
    rank = _rank_within_groups(codes, (keys, selected), group_sizes) + 1
    return np.where(selected, 0, rank)


SELECTORS = {
    "srs": _select_srs,
    "systematic": lambda *arguments: _select_per_group(_choose_systematic, *arguments),
    "pps_systematic": lambda *arguments: _select_per_group(_choose_pps(systematic_pps), *arguments),
    "pps_brewer": lambda *arguments: _select_per_group(_choose_pps(brewer), *arguments),
}


def _check_design(frame, stages, strata, order_by, id_column) -> None:
    """Refuse a design whose columns, stages or identifiers are wrong, listing every problem."""
    if not stages or stages[-1].cluster != id_column:
        raise refuse("stages", f"Giai đoạn cuối phải chọn từng người/hồ sơ (cột {id_column!r}).",
                      f"the last stage must select members: its cluster must be {id_column!r}.")
    problems = [Problem(f"stage {stage.cluster}", f"Phương pháp '{stage.method}' không hợp lệ.",
                        f"unknown method {stage.method!r}; use one of {list(METHODS)}.")
                for stage in stages if stage.method not in METHODS]
    needed = strata + order_by + [id_column] + [stage.cluster for stage in stages]
    needed += [stage.size for stage in stages if stage.size]
    problems += [Problem(f"column {column!r}", "Khung mẫu không có cột này.", "the frame has no such column.")
                 for column in dict.fromkeys(needed) if column not in frame.columns]
    raise_if_any(problems)
    _check_filled(frame, strata + [stage.cluster for stage in stages])
    _check_unique_ids(frame, id_column)


def _check_filled(frame, columns) -> None:
    problems = [Problem(f"column {column!r}", f"Có {count} ô trống.", f"{count} empty cell(s).")
                for column in dict.fromkeys(columns)
                if (count := int((frame[column].isna() | (frame[column].astype(str) == "")).sum()))]
    raise_if_any(problems)


def _check_unique_ids(frame, id_column) -> None:
    duplicated = frame[id_column][frame[id_column].duplicated(keep=False)]
    if len(duplicated):
        examples = sorted(set(duplicated.astype(str)))[:10]
        raise refuse(f"column {id_column!r}", f"Mã bị trùng ({duplicated.nunique()} mã): {examples}",
                     f"duplicate identifiers ({duplicated.nunique()} distinct): {examples}")


def _describe(stages, stage_records, strata, sort_key, id_column, seed) -> dict:
    """A JSON-ready description of the design, enough to redo the draw and to explain it."""
    return {
        "method": stages[0].method if len(stages) == 1 else "multistage",
        "seed": seed,
        "strata": strata,
        "id_column": id_column,
        "sort_key": sort_key,
        "stages": stage_records,
        "random_generator": f"numpy.random.default_rng(seed) (PCG64), numpy {np.__version__}",
    }


def _build_sample(rows, outcome, stage_count, group_columns, design, reserves_per_stratum) -> Sample:
    """Combine stage probabilities, add weights and stratum labels, split members from reserves."""
    stage_columns = [f"stage{number}_inclusion_probability" for number in range(1, stage_count + 1)]
    rows = rows.assign(inclusion_probability=rows[stage_columns].prod(axis=1))
    if stage_count == 1:
        rows = rows.drop(columns=stage_columns)
    rows["design_weight"] = 1 / rows["inclusion_probability"]
    rows["stratum"] = np.array(outcome.labels, dtype=object)[outcome.codes]
    members = rows[outcome.selected].reset_index(drop=True)
    reserves = _reserve_list(rows, outcome, reserves_per_stratum)
    return Sample(members, reserves, design["seed"], design, design["id_column"], group_columns)


def _reserve_list(rows, outcome, limit) -> pd.DataFrame:
    """Unselected rows ordered by stratum then reserve rank, without probability columns."""
    unselected = ~outcome.selected
    if limit is not None:
        unselected &= outcome.reserve_rank <= limit
    order = np.lexsort((outcome.reserve_rank[unselected], outcome.codes[unselected]))
    probability_columns = [column for column in rows.columns
                           if column.endswith(("inclusion_probability", "design_weight"))]
    reserves = rows[unselected].drop(columns=probability_columns)
    reserves = reserves.assign(reserve_rank=outcome.reserve_rank[unselected])
    return reserves.iloc[order].reset_index(drop=True)
