from datetime import UTC, datetime, timedelta, timezone

import h5py
import numpy as np
import pytest

from sar4tec.files import atomic_output, decimal_years, parse_time, read_times, write_times


def test_atomic_output_renames_only_on_success(tmp_path):
    target = tmp_path / "sub" / "product.tif"
    with atomic_output(target) as tmp:
        assert tmp.suffix == ".tif" and tmp.parent == target.parent
        tmp.write_text("complete")
    assert target.read_text() == "complete"

    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "complete"  # the old product is untouched
    assert sorted(p.name for p in target.parent.iterdir()) == ["product.tif"]  # no leftovers


def test_times_round_trip_and_utc(tmp_path):
    times = [
        datetime(2016, 5, 3, 15, 55, 21, 123456, tzinfo=UTC),
        datetime(2016, 5, 15, 18, 55, 22, tzinfo=timezone(timedelta(hours=3))),
        datetime(2016, 5, 27, 15, 55, 23),  # naive = UTC
    ]
    with h5py.File(tmp_path / "t.h5", "w") as f:
        write_times(f, times)
    with h5py.File(tmp_path / "t.h5", "r") as f:
        back = read_times(f)
        assert [d.decode() for d in f["dates"][()]] == ["20160503", "20160515", "20160527"]
    assert back[0] == times[0]
    assert back[1] == datetime(2016, 5, 15, 15, 55, 22, tzinfo=UTC)
    assert back[2].tzinfo is not None
    assert parse_time("2020-01-01T00:00:00Z") == datetime(2020, 1, 1, tzinfo=UTC)


def test_decimal_years():
    origin = datetime(2020, 1, 1, tzinfo=UTC)
    t = [origin, origin + timedelta(days=365.25), origin + timedelta(days=730.5)]
    np.testing.assert_allclose(decimal_years(t, origin), [0.0, 1.0, 2.0])
