"""SIPAS indices from per-PSU sums accumulated in chunks.

[vignette] R survey vignette "A survey analysis example" (cran/survey inst/doc/survey.pdf):
svymean(make.formula(vars), dclus1, na.rm=TRUE) with vars <- names(apiclus1)[c(12:13,16:23,27:37)] prints
sch.wideYes 0.872611, SE 0.0247. A SIPAS item rated 5 for "Yes" and 1 for "No", not rated (N/A) where a row lacks
any of those variables, has exactly that index: N/A leaves a response out of the item as na.rm leaves it out of the
mean (a domain). The other tests check that chunking changes nothing: the in-memory indices (sipas.compute_indices,
whose variance engine is checked against R elsewhere) are reproduced for any chunk size.
"""

import numpy as np
import pandas as pd
import pytest

from analysis.design import SurveyDesign
from analysis.sipas import compute_indices, compute_indices_by
from analysis.sipas_chunked import Columns, compute_indices_chunked

from .conftest import read_api

ONE_ITEM = {"factors": [{"key": "f", "criteria": [{"key": "c", "items": ["q"]}]}]}
SCORING = {"factors": [
    {"key": "a", "criteria": [{"key": "c0", "items": ["q0", "q1"]}, {"key": "c1", "items": ["q2"]}]},
    {"key": "b", "criteria": [{"key": "c2", "items": ["q3"]}, {"key": "c3", "items": ["q4", "q5"]}]},
]}
COLUMNS = Columns(psu="psu", stratum="stratum", weight="w", group="unit", fpc="fpc")


def test_one_item_index_matches_r_domain_share():
    data = read_api("apiclus1")
    complete = data[list(data.columns[[11, 12]]) + list(data.columns[15:23]) + list(data.columns[26:37])].notna().all(axis=1)
    data["q"] = np.where(complete, np.where(data["sch.wide"] == "Yes", 5.0, 1.0), np.nan)
    overall, _ = compute_indices_chunked([data.iloc[:70], data.iloc[70:140], data.iloc[140:]], ONE_ITEM,
                                         Columns(psu="dnum", weight="pw", fpc="fpc"))
    assert round(overall.overall / 100, 6) == 0.872611
    assert round(overall.se / 100, 4) == 0.0247


def _survey(rows: int = 12000, seed: int = 3) -> pd.DataFrame:
    generator = np.random.default_rng(seed)
    psu = generator.integers(0, 120, rows)
    frame = pd.DataFrame({"stratum": psu % 8, "psu": psu, "w": generator.uniform(1, 5, rows),
                          "unit": generator.integers(0, 9, rows), "fpc": 300})
    ratings = generator.integers(1, 6, (rows, 6)).astype(float)
    ratings[generator.random((rows, 6)) < 0.1] = np.nan
    return pd.concat([frame, pd.DataFrame(ratings, columns=[f"q{i}" for i in range(6)])], axis=1)


def _same(first, second) -> None:
    """Recursive equality of two result dicts, floats to 1e-9 relative."""
    if isinstance(first, dict):
        assert first.keys() == second.keys()
        for key in first:
            _same(first[key], second[key])
    elif isinstance(first, (list, tuple)):
        assert len(first) == len(second)
        for left, right in zip(first, second):
            _same(left, right)
    elif isinstance(first, float):
        assert first == pytest.approx(second, rel=1e-9, abs=1e-12)
    else:
        assert first == second


@pytest.mark.parametrize("chunk_size", [997, 5000, 12000])
def test_chunked_indices_equal_the_in_memory_ones(chunk_size):
    data = _survey()
    design = SurveyDesign.from_frame(data, clusters="psu", strata="stratum", weights="w", fpc="fpc")
    overall, by_unit = compute_indices_chunked((data.iloc[start:start + chunk_size] for start in range(0, len(data), chunk_size)), SCORING, COLUMNS)
    _same(compute_indices(data, SCORING, design=design).to_dict(), overall.to_dict())
    in_memory = compute_indices_by(data, SCORING, "unit", design=design)
    assert sorted(in_memory) == sorted(by_unit)
    for unit, result in in_memory.items():
        _same(result.to_dict(), by_unit[unit].to_dict())


def test_bad_chunks_name_their_cause():
    data = _survey(2000)
    moved = data.copy()
    moved.loc[moved["psu"] == 5, "stratum"] = 99
    with pytest.raises(ValueError, match="PSU 5 appears in strata"):
        compute_indices_chunked([data.iloc[:1000], moved.iloc[1000:]], SCORING, COLUMNS)
    lonely = data[(data["stratum"] != 3) | (data["psu"] == 3)]
    with pytest.raises(ValueError, match="Stratum 3 has only one PSU"):
        compute_indices_chunked([lonely], SCORING, COLUMNS)
    bad = data.assign(q2=data["q2"].where(data.index != 10, 9.0))
    with pytest.raises(ValueError, match=r"Item 'q2' has values outside 1..5"):
        compute_indices_chunked([bad], SCORING, COLUMNS)
    with pytest.raises(ValueError, match="Weight column 'w', row 4"):
        compute_indices_chunked([data.assign(w=data["w"].where(data.index != 4, -1.0))], SCORING, COLUMNS)
