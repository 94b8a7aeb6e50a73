import pandas as pd
import pytest

from rnncast.exceptions import DataError
from rnncast.io import atomic_path, write_frame


def test_failed_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "forecast.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["forecast.csv"]


def test_write_frame_csv_and_parquet(tmp_path):
    frame = pd.DataFrame({"a": [1, 2]})
    write_frame(frame, tmp_path / "x.csv")
    write_frame(frame, tmp_path / "x.parquet")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "x.csv"), frame)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "x.parquet"), frame)


def test_missing_folder_is_an_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        write_frame(pd.DataFrame({"a": [1]}), tmp_path / "no" / "x.csv")


def test_written_files_get_the_usual_permissions(tmp_path):
    import os
    import stat

    write_frame(pd.DataFrame({"a": [1]}), tmp_path / "x.csv")
    mode = stat.S_IMODE(os.stat(tmp_path / "x.csv").st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask
