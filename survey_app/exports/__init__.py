"""Exports of a campaign's responses (CSV, XLSX, SPSS, Stata, JSON lines) and the Vietnamese report."""
