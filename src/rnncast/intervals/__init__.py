"""Prediction intervals: levels and their columns, split-conformal intervals, methods.

* :mod:`rnncast.intervals.levels`: interval levels, quantile bounds, the
  ``yhat-lo-80`` / ``yhat-hi-80`` columns of the Nixtla convention;
* :mod:`rnncast.intervals.conformal`: the pure functions of split-conformal
  intervals and conformalized quantile regression;
* :mod:`rnncast.intervals.methods`: the interval method a Forecaster uses, one
  object per ``intervals=`` choice.
"""

from rnncast.intervals.conformal import (
    check_conformal_errors,
    check_conformal_unit,
    conformal_bounds,
    conformal_offsets,
    conformal_unit,
    conformal_widths,
    conformalized_quantile_bounds,
    independent_windows,
    quantile_scores,
    series_conformal_offsets,
    signed_conformal_offsets,
    step_quantiles,
)
from rnncast.intervals.levels import (
    Levels,
    bound_column,
    check_levels,
    interval_columns,
    level_quantiles,
    nested_bounds,
    quantile_bounds,
    sort_quantiles,
)

__all__ = [
    "Levels",
    "bound_column",
    "check_conformal_errors",
    "check_conformal_unit",
    "check_levels",
    "conformal_bounds",
    "conformal_offsets",
    "conformal_unit",
    "conformal_widths",
    "conformalized_quantile_bounds",
    "independent_windows",
    "interval_columns",
    "level_quantiles",
    "nested_bounds",
    "quantile_bounds",
    "quantile_scores",
    "series_conformal_offsets",
    "signed_conformal_offsets",
    "sort_quantiles",
    "step_quantiles",
]
