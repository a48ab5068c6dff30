"""The citizen's side: the counter's form reached by QR, storing one response once, thank-you and closed-campaign
pages; retention of old answers (retention.py)."""
