"""Results: SIPAS-style indices per unit, as pages and as JSON."""
