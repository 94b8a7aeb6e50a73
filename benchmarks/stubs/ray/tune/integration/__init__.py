"""Stand-in (see ray/__init__.py)."""
