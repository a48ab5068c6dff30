"""Driver regression: weighted fit with design-based SEs (published svyglm figures are in test_regression.py)."""

import numpy as np
import pytest

from analysis.drivers import driver_table


def test_linear_driver_coefficients_are_the_weighted_fit(dclus1):
    table = driver_table(dclus1, "api00", ["ell", "meals"])
    data = dclus1.data
    terms = np.column_stack([np.ones(len(data)), data["ell"], data["meals"]])
    root = np.sqrt(dclus1.weights)[:, None]
    expected = np.linalg.lstsq(terms * root, data["api00"].to_numpy()[:, None] * root, rcond=None)[0].ravel()
    assert table["coefficient"].to_numpy() == pytest.approx(expected)
    assert list(table["term"]) == ["intercept", "ell", "meals"]
    assert (table["se"] > 0).all() and (table["ci_low"] < table["coefficient"]).all()


def test_logistic_driver_runs_on_a_binary_outcome(dclus1):
    data = dclus1.data.assign(satisfied=(dclus1.data["api00"] > 650).astype(float))
    design = dclus1.__class__(data, dclus1.weights, dclus1.stages)
    table = driver_table(design, "satisfied", ["meals", "stype"], logistic=True)
    assert table.loc[table["term"] == "meals", "coefficient"].iloc[0] < 0


def test_without_strata_or_fpc_the_se_is_the_cluster_sandwich():
    # With one stratum and no fpc the design-based variance is the PSU sandwich with G/(G−1), as statsmodels'
    # uncorrected cluster covariance times G/(G−1): two independent routes to the same number.
    import statsmodels.api as sm

    from analysis.design import SurveyDesign

    design = SurveyDesign.from_frame(dclus1_data(), clusters="dnum", weights="pw")
    data = design.data
    terms = np.column_stack([np.ones(len(data)), data["ell"], data["meals"]])
    reference = sm.WLS(data["api00"].to_numpy(), terms, weights=design.weights).fit(
        cov_type="cluster", cov_kwds={"groups": design.stages[0].unit, "use_correction": False}
    )
    table = driver_table(design, "api00", ["ell", "meals"])
    cluster_count = design.psu_count()
    expected = np.asarray(reference.bse) * np.sqrt(cluster_count / (cluster_count - 1))
    assert table["se"].to_numpy() == pytest.approx(expected, rel=1e-6)


def dclus1_data():
    from .conftest import read_api

    return read_api("apiclus1")
