"""Stand-in: no Ray Tune (see ray/__init__.py)."""
