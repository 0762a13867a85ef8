"""Sentinel-1 search through the real asf_search client against an HTTPS CMR on 127.0.0.1.

The CMR answers are UMM-JSON granule records in the layout CMR serves for the ASF SLC-BURST
collection, built from the real annotation of S1A_IW_SLC__1SDV_20221016T015043 (track 64,
IW2, bursts 135518-135526: IDs, times, footprint corners); two more acquisitions 12 and 36
days later are the same bursts shifted in time, one with a burst missing.  The server filters
on the BURST_ID_FULL attributes the client posts, as CMR does.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs

import pytest

from sar4tec.acquire.download import OfflineError
from sar4tec.acquire.sentinel1 import coverage_report, download, search
from sar4tec.acquire.testserver import LocalServer, Resource, self_signed_certificate
from sar4tec.files import format_time
from sar4tec.sentinel1.safe import read_safe

pytestmark = pytest.mark.network

SAFE_2022 = "sentinel1/safe/S1A_IW_SLC__1SDV_20221016T015043_20221016T015111_045461_056FC0_6681.zip"
SHIFTS = (0, 12, 36)  # days after the real acquisition
DROPPED = ("064_135522_IW2", 12)  # not in the catalogue on the second date


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the HTTPS test server's certificate")
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


def _attr(name, value):
    return {"Name": name, "Values": [str(value)]}


def _umm_items(info, base_url):
    items = []
    for shift in SHIFTS:
        for index, burst in enumerate(info.bursts, start=1):
            full = burst.full_id(info.track)
            if (full, shift) == DROPPED:
                continue
            t0 = burst.azimuth_time + timedelta(days=shift)
            stamp = t0.strftime("%Y%m%dT%H%M%S")
            name = f"S1_{burst.burst_id:06d}_IW2_{stamp}_VV_6681-BURST"
            safe = info.name.replace("20221016", t0.strftime("%Y%m%d"))
            url = f"{base_url}/{safe}/IW2/VV/{index}"
            items.append(
                {
                    "meta": {
                        "concept-type": "granule",
                        "concept-id": f"G{len(items)}-ASF",
                        "native-id": name,
                        "provider-id": "ASF",
                        "revision-id": 1,
                    },
                    "umm": {
                        "GranuleUR": name,
                        "TemporalExtent": {
                            "RangeDateTime": {
                                "BeginningDateTime": format_time(t0),
                                "EndingDateTime": format_time(t0 + timedelta(seconds=3.1)),
                            }
                        },
                        "OrbitCalculatedSpatialDomains": [{"OrbitNumber": info.absolute_orbit}],
                        "AdditionalAttributes": [
                            _attr("BURST_ID_FULL", full),
                            _attr("BURST_ID_RELATIVE", burst.burst_id),
                            _attr("BURST_INDEX", index),
                            _attr("SUBSWATH_NAME", "IW2"),
                            _attr("PATH_NUMBER", info.track),
                            _attr("POLARIZATION", "VV"),
                            _attr("BEAM_MODE", "IW"),
                            _attr("ASCENDING_DESCENDING", "ASCENDING"),
                            _attr("BYTE_LENGTH", 1000 + index),
                            _attr("SAMPLES_PER_BURST", 25470),
                            _attr("AZIMUTH_ANX_TIME", burst.anx_time),
                        ],
                        "SpatialExtent": {
                            "HorizontalSpatialDomain": {
                                "Geometry": {
                                    "GPolygons": [
                                        {
                                            "Boundary": {
                                                "Points": [
                                                    {"Longitude": lon, "Latitude": lat}
                                                    for lon, lat in [
                                                        *info.footprint,
                                                        info.footprint[0],
                                                    ]
                                                ]
                                            }
                                        }
                                    ]
                                }
                            }
                        },
                        "RelatedUrls": [
                            {"URL": url + ".tiff", "Type": "USE SERVICE API"},
                            {"URL": url + ".xml", "Type": "USE SERVICE API"},
                        ],
                        "Platforms": [{"ShortName": "SENTINEL-1A"}],
                        "CollectionReference": {"ShortName": "SENTINEL-1_BURSTS", "Version": "1"},
                        "InputGranules": [f"{safe}-SLC"],
                    },
                }
            )
    return items


@pytest.fixture()
def cmr(real_data, certificate, monkeypatch):
    # requests lets these variables override a session's CA bundle: trust our test CA only
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.setenv(name, str(certificate[0]))
    info = read_safe(real_data / SAFE_2022)

    def answer(query, body):
        form = parse_qs(body.decode())
        wanted = {
            a.split(",", 2)[2]
            for a in form.get("attribute[]", [])
            if a.startswith("string,BURST_ID_FULL,")
        }
        items = [
            i
            for i in server.items
            if not wanted
            or any(
                a["Name"] == "BURST_ID_FULL" and a["Values"][0] in wanted
                for a in i["umm"]["AdditionalAttributes"]
            )
        ]
        return json.dumps({"hits": len(items), "took": 3, "items": items}).encode()

    with LocalServer(
        {"/search/granules.umm_json": Resource(answer, "application/json")}, tls=certificate
    ) as server:
        server.items = _umm_items(info, server.base_url)
        yield server, info


def _session(certificate):
    import asf_search

    session = asf_search.ASFSession()
    session.verify = str(certificate[0])
    return session


def test_burst_search_lists_acquisitions_and_reports_gaps(cmr, certificate):
    server, info = cmr
    wanted = info.burst_ids[:5]
    granules = search(
        "2022-10-01",
        "2022-12-31",
        burst_ids=wanted,
        host=server.base_url[8:],
        session=_session(certificate),
    )
    # what the client asked CMR (one query per burst ID): IDs, polarisation, IW beam mode
    asked = [set(parse_qs(h.body.decode())["attribute[]"]) for h in server.hits]
    assert {f"string,BURST_ID_FULL,{b}" for b in wanted} <= set().union(*asked)
    assert all({"string,POLARIZATION,VV", "string,BEAM_MODE,IW"} <= a for a in asked)
    assert {g.burst_id for g in granules} == set(wanted)
    assert len(granules) == 5 * 3 - 1  # the dropped burst
    # asf_search truncates catalogue times to whole seconds; the annotation keeps the rest
    delta = info.bursts[0].azimuth_time - granules[0].sensing_time
    assert timedelta(0) <= delta < timedelta(seconds=1)
    assert granules[0].url.endswith("/IW2/VV/1.tiff") and granules[0].size == 1001
    report = coverage_report(granules, wanted, max_gap_days=12)  # the 6-day pair is gone
    assert report["dates"] == ["20221016", "20221028", "20221121"]
    assert report["missing_bursts"] == {"20221028": ["064_135522_IW2"]}
    assert report["gaps"] == [["20221028", "20221121", 24.0]]


def test_download_of_found_granules_uses_the_cache(cmr, certificate, tmp_path, real_data):
    server, info = cmr
    granules = search(
        "2022-10-01",
        "2022-10-20",
        burst_ids=info.burst_ids[:2],
        host=server.base_url[8:],
        session=_session(certificate),
    )
    # serve real bytes of the right length at each burst URL
    payload = (real_data / SAFE_2022).read_bytes()
    files = LocalServer({})
    with files:
        moved = []
        for g in granules:
            # a burst comes as a TIFF plus the XML with its own annotation
            assert g.metadata_url == g.url[: -len(".tiff")] + ".xml"
            path = "/" + g.url.split("/", 3)[3]
            meta = path[: -len(".tiff")] + ".xml"
            files.resources[path] = Resource(payload[: g.size], faults=["drop"])
            files.resources[meta] = Resource(b"<burst-metadata/>")
            moved.append(replace(g, url=files.url(path), metadata_url=files.url(meta)))
        paths = download(moved, tmp_path, workers=2, backoff=0.01)
    assert [p.read_bytes() for p in paths] == [payload[: g.size] for g in granules]
    assert [p.name for p in paths] == [g.name + ".tiff" for g in granules]
    assert all(p.with_suffix(".xml").read_bytes() == b"<burst-metadata/>" for p in paths)
    assert download(moved, tmp_path, offline=True) == paths
    with pytest.raises(OfflineError, match="offline mode"):
        download(moved, tmp_path / "empty", offline=True)
