"""What every area shares: settings, database and Piccolo tables, templating, errors, HTTP protocol, security, limits,
Vietnam time, single-flight caching, PDF fonts, counter tokens."""
