"""Stand-in (see ray/__init__.py)."""


class TuneReportCallback:
    """Never instantiated: only the Auto* tuners use it."""
