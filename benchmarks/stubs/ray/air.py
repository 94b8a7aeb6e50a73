"""Stand-in: no Ray AIR (see ray/__init__.py)."""
