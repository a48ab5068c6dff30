"""Survey analysis: designs, weighting, Taylor and replicate variance, SIPAS / PAR indices.

A pure library (numpy, pandas, scipy, statsmodels, scikit-learn): no web, no database.
"""
