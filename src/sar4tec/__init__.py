"""sar4tec: Sentinel-1 PS/DS InSAR time series for high-strain regions."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sar4tec")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"
