"""Citizen-facing pages: the counter's form reached by QR, thank-you and closed-campaign pages."""
