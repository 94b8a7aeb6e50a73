import rnncast


def test_all_names_exist_and_nothing_else_is_public():
    assert sorted(rnncast.__all__) == sorted(
        [
            "BacktestResult",
            "ConfigError",
            "DataError",
            "Drift",
            "Forecaster",
            "ModelFileError",
            "Naive",
            "NotFittedError",
            "RnncastError",
            "SeasonalNaive",
            "TuneResult",
            "__version__",
            "backtest",
            "tune",
        ]
    )
    for name in rnncast.__all__:
        assert hasattr(rnncast, name)


def test_errors_subclass_the_builtin_they_resemble():
    assert issubclass(rnncast.DataError, ValueError)
    assert issubclass(rnncast.ConfigError, ValueError)
    assert issubclass(rnncast.NotFittedError, AttributeError)
    for name in ("DataError", "ConfigError", "NotFittedError", "ModelFileError"):
        assert issubclass(getattr(rnncast, name), rnncast.RnncastError)
