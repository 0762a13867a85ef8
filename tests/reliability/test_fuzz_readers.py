"""Property-based fuzzing of the input readers (issue 10).

Each reader gets real files from ``../shared/data/real/`` (trimmed so one example reads in
milliseconds), mutated by hypothesis (truncated, bytes overwritten/inserted/deleted, lines
dropped or repeated), and random bytes.  The property: the reader either returns (a mutation
may be harmless, e.g. inside a comment) or raises :class:`sar4tec.errors.InputFormatError`
whose message names the file -- never another exception, never a hang (the deadline).

The runs are derandomized (the same examples on every machine, so CI is deterministic) and
bounded by ``max_examples``: about 20 s in all on 2 cores.
"""

from __future__ import annotations

import gzip
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sar4tec.acquire.ionex import check_ionex
from sar4tec.corrections.ionosphere import read_ionex
from sar4tec.corrections.weather import read_weather
from sar4tec.errors import InputFormatError
from sar4tec.reference.readers import (
    read_csv_velocities,
    read_gage_vel,
    read_midas,
    read_tenv3_velocity,
    write_csv_velocities,
)
from sar4tec.sentinel1.orbit import eof_validity, read_eof
from sar4tec.sentinel1.safe import parse_annotation, parse_burst_annotations, parse_manifest
from sar4tec.simulate.gnss import Stations, midas_lines

#: a hang shows as an example slower than this (a healthy one takes milliseconds; the margin
#: covers a 2-core machine shared with other jobs)
DEADLINE = timedelta(seconds=5)


def fuzz(examples: int) -> settings:
    """Bounded, derandomized settings: the same examples on every run."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=DEADLINE,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


NOISE = st.binary(min_size=1, max_size=8) | st.sampled_from(
    [b"-", b".", b"9999", b"nan", b"\n", b"<", b"</x>", b"E+999", b"  ", b"\x00", b"\xff\xfe"]
)


@st.composite
def mutated(draw, base: bytes) -> bytes:
    """``base`` after one to three random edits (byte-level and line-level)."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "overwrite", "insert", "delete", "line", "dup"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "truncate":
            del data[pos:]
        elif kind == "overwrite":
            chunk = draw(NOISE)
            data[pos : pos + len(chunk)] = chunk
        elif kind == "insert":
            data[pos:pos] = draw(NOISE)
        elif kind == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        else:  # drop or repeat the line holding pos
            start = data.rfind(b"\n", 0, pos) + 1
            end = data.find(b"\n", pos)
            end = len(data) if end < 0 else end + 1
            line = bytes(data[start:end])
            data[start:end] = b"" if kind == "line" else line * 2
    return bytes(data)


def outcome(reader: Callable[[Path], object], data: bytes, suffix: str) -> InputFormatError | None:
    """Run ``reader`` on ``data`` written to a file; None if it read, else its InputFormatError.

    Any other exception propagates and fails the test.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzzed{suffix}"
        path.write_bytes(data)
        try:
            reader(path)
        except InputFormatError as err:
            assert str(path) in str(err), f"the message does not name the file: {err}"
            return err
    return None


def must_fail(reader: Callable[[Path], object], data: bytes, suffix: str) -> None:
    assert outcome(reader, data, suffix) is not None, "garbage was read without an error"


# --- IONEX ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ionex_base(real_data) -> bytes:
    """A real CODE map file cut to its header and the first two TEC maps."""
    lines = (real_data / "ionex/codg0080.20i").read_bytes().splitlines(keepends=True)
    out, maps = [], 0
    for line in lines:
        label = line[60:].strip()
        if label == b"# OF MAPS IN FILE":
            line = b"%6d" % 2 + line[6:]
        out.append(line)
        if label == b"END OF TEC MAP":
            maps += 1
            if maps == 2:
                break
    data = b"".join(out)
    assert read_ionex_bytes(data).tec.shape == (2, 71, 73)  # the base itself reads
    return data


def read_ionex_bytes(data: bytes):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "base.20i"
        path.write_bytes(data)
        return read_ionex(path)


def test_ionex_reader_survives_mutations(ionex_base):
    @fuzz(200)
    @given(mutated(ionex_base))
    def run(data):
        outcome(read_ionex, data, ".20i")
        outcome(lambda p: check_ionex(p, date(2020, 1, 8)), data, ".20i")

    run()


def test_ionex_reader_rejects_garbage_and_broken_compression(ionex_base):
    @fuzz(25)
    @given(st.binary(max_size=2000))
    def run(data):
        must_fail(read_ionex, data, ".20i")
        must_fail(lambda p: check_ionex(p, date(2020, 1, 8)), data, ".20i")

    run()
    packed = gzip.compress(ionex_base)
    for cut in (10, len(packed) // 2):  # a truncated download of a .gz
        must_fail(read_ionex, packed[:cut], ".INX.gz")
        must_fail(lambda p: check_ionex(p, date(2020, 1, 8)), packed[:cut], ".INX.gz")
    must_fail(read_ionex, b"\x1f\x9d\x90garbage", ".20i.Z")  # broken Unix compress


# --- EOF orbits ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def eof_base(real_data) -> bytes:
    data = (real_data / "sentinel1/orbits/S1_orbit_example.EOF").read_bytes()
    assert outcome(read_eof, data, ".EOF") is None  # the base itself reads
    return data


def test_eof_reader_survives_mutations(eof_base):
    @fuzz(250)
    @given(mutated(eof_base))
    def run(data):
        outcome(read_eof, data, ".EOF")
        outcome(eof_validity, data, ".EOF")

    run()


def test_eof_reader_rejects_garbage():
    @fuzz(25)
    @given(st.binary(max_size=2000))
    def run(data):
        must_fail(read_eof, data, ".EOF")
        must_fail(eof_validity, data, ".EOF")

    run()


# --- Sentinel-1 annotation and manifest XML -----------------------------------------------

KEEP = {"adsHeader", "generalAnnotation", "imageAnnotation", "dopplerCentroid", "swathTiming"}


@pytest.fixture(scope="module")
def annotation_base(real_data) -> bytes:
    """The IW2 VV annotation of a real SAFE, without the lists no reader uses, two bursts."""
    path = next((real_data / "sentinel1/safe").glob("S1A_IW_SLC__1SDV_20221016T015043*.zip"))
    with zipfile.ZipFile(path) as zf:
        name = next(n for n in zf.namelist() if "/annotation/s1a-iw2-slc-vv" in n)
        root = ET.fromstring(zf.read(name))
    for child in list(root):
        if child.tag not in KEEP:
            root.remove(child)
    burst_list = root.find("swathTiming/burstList")
    for burst in burst_list.findall("burst")[2:]:
        burst_list.remove(burst)
    burst_list.set("count", "2")
    data = ET.tostring(root)
    assert len(parse_burst_annotations(data, 64)) == 2  # the base itself reads
    return data


def _annotation_reader(reader):
    return lambda path: reader(path.read_bytes(), 64, str(path))


def test_annotation_parsers_survive_mutations(annotation_base):
    @fuzz(150)
    @given(mutated(annotation_base))
    def run(data):
        outcome(_annotation_reader(parse_annotation), data, ".xml")
        outcome(_annotation_reader(parse_burst_annotations), data, ".xml")

    run()


def test_manifest_parser_survives_mutations_and_garbage(real_data):
    base = (real_data / "sentinel1/safe/manifest_7C85.safe").read_bytes()
    reader = lambda path: parse_manifest(path.read_bytes(), str(path))  # noqa: E731
    assert outcome(reader, base, ".safe") is None

    @fuzz(100)
    @given(mutated(base))
    def run(data):
        outcome(reader, data, ".safe")

    run()

    @fuzz(15)
    @given(st.binary(max_size=500))
    def garbage(data):
        must_fail(reader, data, ".safe")
        must_fail(_annotation_reader(parse_burst_annotations), data, ".xml")

    garbage()


# --- GNSS station files --------------------------------------------------------------------


@pytest.fixture(scope="module")
def gnss_bases(real_data) -> dict[str, tuple[Callable[[Path], object], bytes]]:
    """Reader and a small valid file for each GNSS format."""
    gage = (real_data / "gnss/cwu.final_nam14.vel").read_bytes().splitlines(keepends=True)
    tenv3 = (real_data / "gnss/LHAS.tenv3").read_bytes().splitlines(keepends=True)
    generator = np.random.default_rng(0)
    stations = Stations(
        ["AAAA", "BBBB", "CCCC"],
        np.array([40.5, 40.7, 40.9]),
        np.array([30.1, 30.3, 30.5]),
        np.array([100.0, 200.0, 300.0]),
        np.zeros((3, 3)),
        np.full((3, 3), 0.01),
        np.full((3, 3), 0.001),
    )
    midas = ("\n".join(midas_lines(stations, generator)) + "\n").encode()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "midas.txt"
        path.write_bytes(midas)
        write_csv_velocities(Path(folder) / "v.csv", read_midas(path))
        csv = (Path(folder) / "v.csv").read_bytes()
    bases = {
        "midas": (read_midas, midas),
        "gage_vel": (read_gage_vel, b"".join(gage[:44])),
        "tenv3": (read_tenv3_velocity, b"".join(tenv3[:500])),
        "csv": (lambda p: read_csv_velocities(p, "IGS14"), csv),
    }
    for name, (reader, data) in bases.items():
        assert outcome(reader, data, ".txt") is None, name  # each base itself reads
    return bases


@pytest.mark.parametrize("fmt", ["midas", "gage_vel", "tenv3", "csv"])
def test_gnss_readers_survive_mutations_and_garbage(gnss_bases, fmt):
    reader, base = gnss_bases[fmt]

    @fuzz(120)
    @given(mutated(base))
    def run(data):
        outcome(reader, data, ".txt")

    run()

    @fuzz(10)
    @given(st.binary(max_size=300))
    def garbage(data):
        must_fail(reader, data, ".txt")

    garbage()


# --- ERA5 (GRIB and NetCDF): truncated downloads --------------------------------------------


@pytest.mark.parametrize(
    "name", ["ERA-5_2019_11_17_T20_51_58.nc", "ERA5_N30_N40_E120_E140_20101017_14.grb"]
)
def test_era5_reader_rejects_truncated_files(real_data, name):
    base = (real_data / "era5" / name).read_bytes()
    suffix = Path(name).suffix
    # the file's data end: ECMWF pads each GRIB message after its "7777" end marker, and a cut
    # in the last padding loses nothing
    end = base.rfind(b"7777") + 4 if suffix == ".grb" else len(base)

    @fuzz(30)
    @given(st.integers(0, end - 1))
    def run(cut):
        must_fail(read_weather, base[:cut], suffix)

    run()
