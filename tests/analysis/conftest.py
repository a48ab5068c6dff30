"""The R survey ``api`` designs, built once per test session."""

from pathlib import Path

import pandas as pd
import pytest

from analysis.design import SurveyDesign

DATA = Path(__file__).resolve().parents[1] / "data"


def read_api(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv")


@pytest.fixture(scope="session")
def dsrs():
    return SurveyDesign.from_frame(read_api("apisrs"), fpc="fpc")


@pytest.fixture(scope="session")
def dstrat():
    return SurveyDesign.from_frame(read_api("apistrat"), strata="stype", weights="pw", fpc="fpc")


@pytest.fixture(scope="session")
def dclus1():
    return SurveyDesign.from_frame(read_api("apiclus1"), clusters="dnum", weights="pw", fpc="fpc")


@pytest.fixture(scope="session")
def dclus2():
    return SurveyDesign.from_frame(read_api("apiclus2"), clusters=["dnum", "snum"], fpc=["fpc1", "fpc2"])


def significant(published: float, digits: int = 4):
    """Agreement to ``digits`` significant digits: within half a unit of the last of them (R prints 4–7)."""
    import math

    unit = 10 ** (math.floor(math.log10(abs(published))) - digits + 1)
    return pytest.approx(published, abs=unit / 2)
