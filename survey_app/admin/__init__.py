"""Administration pages: the audit log (units, counters, domains, users and questionnaires follow)."""
