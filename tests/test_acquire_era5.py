"""ERA5 client: request builder, cache names, credentials, and cdsapi end to end against a
local server that speaks the new CDS ``/api`` (retrieve/v1 processes, execution, jobs,
results) and serves a real ERA5 GRIB."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from sar4tec.acquire import era5
from sar4tec.acquire.testserver import LocalServer, Resource

GRIB = "era5/ERA5_N30_N40_E120_E140_20101017_14.grb"


def test_area_is_padded_and_rounded():
    area = era5.request_area((130.31, 31.22, 131.27, 32.64), padding=0.5, rounding=1.0)
    assert area == era5.Area(north=34.0, west=129.0, south=30.0, east=132.0)
    # neighbouring frames share the file
    assert era5.request_area((130.4, 31.3, 131.1, 32.6), 0.5, 1.0) == area
    assert area.tag() == "N34_N30_E129_E132"
    assert era5.request_area((-0.2, -0.3, 0.2, 0.1), 0.0, 0.25).tag() == "N0.25_S0.5_W0.25_E0.25"
    with pytest.raises(ValueError):
        era5.request_area((1, 1, 0, 0))


def test_hours_request_and_cache_name(tmp_path):
    when = datetime(2016, 5, 3, 15, 55, 21, tzinfo=UTC)
    hours = era5.bracketing_hours(when)
    assert hours == [datetime(2016, 5, 3, 15, tzinfo=UTC), datetime(2016, 5, 3, 16, tzinfo=UTC)]
    assert era5.bracketing_hours(hours[0]) == hours[:1]
    area = era5.Area(40.0, 120.0, 30.0, 140.0)
    request = era5.build_request(area, hours[1])
    assert request["variable"] == ["geopotential", "temperature", "specific_humidity"]
    assert len(request["pressure_level"]) == 37 and request["time"] == ["16:00"]
    assert (request["year"], request["month"], request["day"]) == (["2016"], ["05"], ["03"])
    assert request["area"] == [40.0, 120.0, 30.0, 140.0]
    assert request["product_type"] == ["reanalysis"] and request["data_format"] == "grib"
    path = era5.cache_path(tmp_path, area, hours[1], "netcdf")
    assert path.name == "ERA5_N40_N30_E120_E140_20160503_16.nc"


def test_credentials(tmp_path, monkeypatch):
    monkeypatch.delenv("CDSAPI_URL", raising=False)
    monkeypatch.delenv("CDSAPI_KEY", raising=False)
    rc = tmp_path / "cdsapirc"
    monkeypatch.setenv("CDSAPI_RC", str(rc))
    with pytest.raises(era5.CredentialsError, match="no CDS token"):
        era5.cds_credentials()
    rc.write_text("url: https://cds.climate.copernicus.eu/api/v2\nkey: 12345:abcdef\n")
    with pytest.raises(era5.CredentialsError, match="legacy"):
        era5.cds_credentials()
    rc.write_text("url: http://example.test/api\nkey: 0000-token\n")
    assert era5.cds_credentials() == ("http://example.test/api", "0000-token")
    monkeypatch.setenv("CDSAPI_KEY", "env-token")
    assert era5.cds_credentials()[1] == "env-token"


class FakeCDS:
    """The part of the new CDS API that cdsapi 0.7 (ecmwf-datastores-client) calls."""

    def __init__(self, payload: bytes):
        self.payload = payload
        self.polls = 0
        self.requests: list[dict] = []
        ds = era5.DATASET
        base = "/api/retrieve/v1"
        self.server = LocalServer(
            {
                "/api/catalogue/v1/messages": self.json({"messages": []}),
                f"{base}/processes/{ds}": self.json({"id": ds}),
                f"{base}/processes/{ds}/execution": Resource(self.execute, "application/json"),
                f"{base}/jobs/job-1": Resource(self.status, "application/json"),
                f"{base}/jobs/job-1/results": Resource(self.results, "application/json"),
                "/download/job-1.grib": Resource(payload),
            }
        )

    @staticmethod
    def json(content) -> Resource:
        return Resource(json.dumps(content).encode(), "application/json")

    def url(self, path: str) -> str:
        return self.server.url(path)

    def execute(self, query, body) -> bytes:
        self.requests.append(json.loads(body)["inputs"])
        monitor = self.url("/api/retrieve/v1/jobs/job-1")
        return json.dumps({"jobID": "job-1", "status": "accepted",
                           "links": [{"rel": "monitor", "href": monitor}]}).encode()  # fmt: skip

    def status(self, query, body) -> bytes:
        self.polls += 1
        state = "accepted" if self.polls == 1 else "successful"  # one poll says "wait"
        return json.dumps({"jobID": "job-1", "status": state, "metadata": {}}).encode()

    def results(self, query, body) -> bytes:
        asset = {"href": self.url("/download/job-1.grib"), "file:size": len(self.payload),
                 "type": "application/x-grib"}  # fmt: skip
        return json.dumps({"asset": {"value": asset}}).encode()


@pytest.mark.network
def test_cdsapi_end_to_end(real_data, tmp_path, monkeypatch):
    payload = (real_data / GRIB).read_bytes()
    cds = FakeCDS(payload)
    with cds.server:
        rc = tmp_path / "cdsapirc"
        rc.write_text(f"url: {cds.url('/api')}\nkey: my-personal-token\n")
        monkeypatch.setenv("CDSAPI_RC", str(rc))
        monkeypatch.delenv("CDSAPI_URL", raising=False)
        monkeypatch.delenv("CDSAPI_KEY", raising=False)
        when = datetime(2010, 10, 17, 14, tzinfo=UTC)
        bounds = (130.25, 31.25, 131.25, 32.65)
        paths = era5.download_era5(bounds, [when], tmp_path / "cache", padding=0.5)
        assert [p.name for p in paths] == ["ERA5_N34_N30_E129_E132_20101017_14.grb"]
        assert paths[0].read_bytes() == payload
        assert cds.requests == [era5.build_request(era5.Area(34.0, 129.0, 30.0, 132.0), when)]
        tokens = {h.headers.get("PRIVATE-TOKEN") for h in cds.server.hits if "/retrieve/" in h.path}
        assert tokens == {"my-personal-token"}
        assert cds.polls >= 2
        # the cached file answers the second call without any request
        hits = len(cds.server.hits)
        assert era5.download_era5(bounds, [when], tmp_path / "cache", padding=0.5) == paths
        assert len(cds.server.hits) == hits
    # offline: a missing hour is an error that names the file
    with pytest.raises(FileNotFoundError, match="20101017_15"):
        era5.download_era5(
            bounds, [when.replace(minute=30)], tmp_path / "cache", padding=0.5, offline=True
        )
    assert not list((tmp_path / "cache").glob(".*tmp*"))


def test_readers_accept_the_download(real_data, tmp_path):
    """What the client stores is what the troposphere reader reads (GRIB magic check)."""
    path = tmp_path / "x.grb"
    path.write_bytes((real_data / GRIB).read_bytes())
    assert era5._looks_complete(path, "grib")
    path.write_bytes(b"<html>error</html>")
    assert not era5._looks_complete(path, "grib")
