import pandas as pd
import pytest

from rnncast.cli import main
from rnncast.data.frame import validate_frame
from rnncast.data.inputs import to_long_frame
from rnncast.datasets import DATASET_INFO, DATASETS, describe_datasets, load_dataset
from rnncast.exceptions import DataError


@pytest.mark.parametrize(
    ("name", "n_series", "length", "freq"),
    [
        ("air_passengers", 1, 144, "MS"),
        ("ili", 1, 966, "W-TUE"),
        ("exchange_rate", 8, 1000, 1),
        ("stocks", 5, 3270, 1),
        ("glucose", 1, 57770, "5min"),
        ("tourism_monthly", 366, 333, "MS"),
        ("ett", 7, 17420, "h"),
        ("ett_covariates", 1, 17420, "h"),
        ("traffic_weather", 1, 17520, "h"),
    ],
)
def test_shipped_datasets_load_offline_and_validate(name, n_series, length, freq):
    data = validate_frame(to_long_frame(load_dataset(name)), fill="interpolate")
    assert data.n_series == n_series and int(data.lengths.max()) == length
    assert data.freq == freq
    info = DATASET_INFO[name]  # the catalogue that `rnncast datasets` lists
    assert (info.series, info.length) == (n_series, length)


def test_every_catalogued_dataset_has_a_loader_and_is_tested():
    tested = test_shipped_datasets_load_offline_and_validate.pytestmark[0].args[1]
    assert sorted(DATASET_INFO) == sorted(row[0] for row in tested)
    assert list(DATASETS) == list(DATASET_INFO)
    assert all(callable(load) for load in DATASETS.values())


def test_describe_lists_every_dataset_with_licence_and_source():
    table = describe_datasets()
    assert list(table["name"]) == list(DATASETS)
    assert table[["licence", "source", "domain"]].notna().all().all()


def test_unknown_dataset_name():
    with pytest.raises(DataError, match="unknown dataset 'm4'"):
        load_dataset("m4")


def test_datasets_command(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "exchange_rate" in out and "US public domain" in out


def test_a_dataset_name_works_as_data_and_a_file_wins(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "fc.csv"
    command = ["forecast", "ili", "--horizon", "4", "--hidden", "4", "--epochs", "1"]
    assert main([*command, "-o", str(out), "-q"]) == 0
    assert pd.read_csv(out)["unique_id"].iloc[0] == "US_ILI_weighted"
    load_dataset("air_passengers").to_csv(tmp_path / "ili", index=False)  # a file "ili"
    assert main([*command, "-o", str(out), "-q"]) == 0
    assert pd.read_csv(out)["unique_id"].iloc[0] == "AirPassengers"


def test_glucose_keeps_its_gaps_as_missing_values():
    from rnncast.datasets import load_glucose

    glucose = load_glucose()
    gaps = glucose["y"].isna()
    assert 0.05 < gaps.mean() < 0.15  # about 5,500 empty 5-minute slots of 57,770
    assert glucose["ds"].diff().dropna().eq(pd.Timedelta("5min")).all()


def test_tourism_parts_split_the_series():
    from rnncast.datasets import load_tourism_monthly

    train, test = load_tourism_monthly("train"), load_tourism_monthly("test")
    assert train["unique_id"].nunique() == test["unique_id"].nunique() == 366
    assert (test.groupby("unique_id").size() == 24).all()
    whole = load_tourism_monthly()
    assert len(whole) == len(train) + len(test)


@pytest.mark.parametrize(
    ("name", "futr", "hist"),
    [
        (
            "traffic_weather",
            ["temp", "rain_1h", "clouds_all", "rain", "snow", "fog"],
            [],
        ),
        ("ett_covariates", [], ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL"]),
    ],
)
def test_the_covariate_datasets_are_complete_and_read_as_covariates(name, futr, hist):
    from rnncast import Forecaster

    frame = load_dataset(name)
    model = Forecaster(horizon=24, futr_exog=futr, hist_exog=hist)
    series = model.read(frame)
    assert series.exog_names == (*futr, *hist)
    assert series.exog.shape == (series.values.size, len(futr) + len(hist))
    assert frame[[*futr, *hist]].notna().all().all()
