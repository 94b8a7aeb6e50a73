"""Data layer: validation (frame), window construction (windows), scaling (scaling)."""
