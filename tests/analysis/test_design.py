"""SurveyDesign construction and its error messages."""

import numpy as np
import pandas as pd
import pytest

from analysis import estimators
from analysis.design import SurveyDesign

from .conftest import read_api


def test_weights_from_fpc_match_r_two_stage_weights():
    data = read_api("apiclus2")
    design = SurveyDesign.from_frame(data, clusters=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    assert design.weights == pytest.approx(data["pw"].to_numpy(), rel=1e-4)


def test_sampling_fraction_equals_population_size():
    data = read_api("apistrat")
    data["fraction"] = data.groupby("stype")["stype"].transform("size") / data["fpc"]
    by_size = SurveyDesign.from_frame(data, strata="stype", weights="pw", fpc="fpc")
    by_fraction = SurveyDesign.from_frame(data, strata="stype", weights="pw", fpc="fraction")
    assert estimators.mean(by_fraction, "api00").se == pytest.approx(estimators.mean(by_size, "api00").se)


def test_probabilities_are_inverted():
    data = read_api("apistrat")
    data["probability"] = 1 / data["pw"]
    design = SurveyDesign.from_frame(data, strata="stype", probabilities="probability", fpc="fpc")
    assert design.weights == pytest.approx(data["pw"].to_numpy())


def test_bad_weights_say_the_fix():
    data = read_api("apistrat")
    data.loc[3, "pw"] = 0
    with pytest.raises(ValueError, match="Drop those rows or fix the weights"):
        SurveyDesign.from_frame(data, strata="stype", weights="pw")


def test_clusters_not_nested_in_strata_suggest_nest():
    data = pd.DataFrame({"stratum": [1, 1, 2, 2], "psu": [1, 2, 1, 2], "y": [1.0, 2, 3, 4], "w": 1.0})
    with pytest.raises(ValueError, match="nest=True"):
        SurveyDesign.from_frame(data, clusters="psu", strata="stratum", weights="w")
    assert SurveyDesign.from_frame(data, clusters="psu", strata="stratum", weights="w", nest=True).psu_count() == 4


def test_missing_column_is_named():
    with pytest.raises(ValueError, match="not in the data"):
        SurveyDesign.from_frame(read_api("apisrs"), strata="nope")


def test_fpc_smaller_than_sample_is_refused():
    data = read_api("apisrs").assign(fpc=10)
    with pytest.raises(ValueError, match="smaller than the number of sampled units"):
        SurveyDesign.from_frame(data, fpc="fpc")


def _lonely_design(option):
    data = pd.DataFrame({"stratum": [1, 1, 2, 3, 3], "y": [1.0, 3, 5, 2, 6], "w": [2.0, 2, 1, 3, 3]})
    return SurveyDesign.from_frame(data, strata="stratum", weights="w", lonely_psu=option)


def test_lonely_psu_fails_by_default_with_the_options():
    with pytest.raises(ValueError, match="lonely_psu='certainty'"):
        estimators.total(_lonely_design("fail"), "y")


def test_lonely_psu_options_order():
    certainty = estimators.total(_lonely_design("certainty"), "y").se
    remove = estimators.total(_lonely_design("remove"), "y").se
    average = estimators.total(_lonely_design("average"), "y").se
    adjust = estimators.total(_lonely_design("adjust"), "y").se
    # Hand values: strata 1 and 3 give 2²·(1-3)²·... ; certainty drops stratum 2, average scales by 3/2.
    stratum_one = 2 * ((2 * 1 - 4) ** 2 + (2 * 3 - 4) ** 2)  # n/(n-1)=2, deviations of w·y from the mean
    stratum_three = 2 * ((3 * 2 - 12) ** 2 + (3 * 6 - 12) ** 2)
    assert certainty == pytest.approx(np.sqrt(stratum_one + stratum_three))
    assert remove == pytest.approx(certainty)
    assert average == pytest.approx(np.sqrt((stratum_one + stratum_three) * 3 / 2))
    assert adjust > certainty


def test_nested_codes_match_a_sorted_multiindex():
    import numpy as np
    import pandas as pd

    from analysis.design import _combine

    generator = np.random.default_rng(3)
    first, second = generator.integers(0, 7, 500), generator.integers(0, 40, 500)
    expected = pd.factorize(pd.MultiIndex.from_arrays([first, second]), sort=True)[0]
    assert (_combine(first, second) == expected).all()
