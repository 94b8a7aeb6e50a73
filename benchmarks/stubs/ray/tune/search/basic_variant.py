"""Stand-in (see ray/__init__.py)."""

from typing import Any


class BasicVariantGenerator:
    """Made only as a default argument of NeuralForecast's Auto* tuners."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass
