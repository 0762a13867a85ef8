"""Quicklooks: the velocity map with GNSS residuals, and time series at a few points."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from sar4tec.files import atomic_output
from sar4tec.grid import Grid


def symmetric_limit(values: np.ndarray, percentile: float = 98.0) -> float:
    """Colour limit ``L`` for a ``[-L, L]`` scale covering ``percentile`` % of ``|values|``."""
    finite = np.abs(values[np.isfinite(values)])
    if finite.size == 0:
        return 1.0
    return float(max(np.percentile(finite, percentile), 1e-3))


def preview(image: np.ndarray, max_pixels: int = 1000) -> tuple[np.ndarray, int]:
    """Block mean (NaN ignored) of ``image`` with no side above ``max_pixels``, and the block size.

    The last block row/column may extend past the image (it averages the pixels it has).
    """
    step = max(1, int(np.ceil(max(image.shape) / max_pixels)))
    if step == 1:
        return image, 1
    rows, cols = (-(-n // step) * step for n in image.shape)
    padded = np.full((rows, cols), np.nan)
    padded[: image.shape[0], : image.shape[1]] = image
    blocks = padded.reshape(rows // step, step, cols // step, step)
    count = np.isfinite(blocks).sum(axis=(1, 3))
    total = np.nansum(blocks, axis=(1, 3))
    return np.where(count > 0, total / np.maximum(count, 1), np.nan), step


def _plot_xy(grid: Grid, lat, lon) -> tuple[np.ndarray, np.ndarray]:
    """Map coordinates ``(x, y)`` of the quicklook (the grid's CRS) of geodetic points."""
    if grid.crs == "EPSG:4326":
        return np.asarray(lon), np.asarray(lat)
    row, col = grid.index_latlon(lat, lon)
    x0, dx, _, y0, _, dy = grid.transform
    return x0 + (col + 0.5) * dx, y0 + (row + 0.5) * dy


def plot_quicklook(
    path: str | Path,
    velocity_mm: np.ndarray,
    grid: Grid,
    stations: Mapping[str, np.ndarray],
    title: str,
    frame_label: str,
    reference_lonlat: tuple[float, float] | None = None,
    percentile: float = 98.0,
    dpi: int = 120,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Velocity map (mm/yr) with GNSS stations coloured by their InSAR - GNSS residual.

    Parameters
    ----------
    path : str or Path
        PNG to write.
    velocity_mm : numpy.ndarray
        LOS velocity in mm/yr on ``grid`` (NaN = no data).
    grid : Grid
        Grid of the map.
    stations : mapping
        Columns of ``gnss_residuals.csv`` (``lon``, ``lat``, ``status``, ``residual``).
    title, frame_label : str
        Figure title and the reference frame for the colour-bar label.
    reference_lonlat : (lon, lat), optional
        Reference point, drawn as a black square.
    percentile : float
        Colour scale covers this percentile of ``|velocity|``.
    dpi : int
        Resolution.
    metadata : mapping, optional
        PNG text chunks (the products' provenance).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    west, south, east, north = grid.bounds
    limit = symmetric_limit(velocity_mm, percentile)
    geographic = grid.crs == "EPSG:4326"
    aspect = 1.0 / np.cos(np.radians(0.5 * (south + north))) if geographic else 1.0
    fig, ax = plt.subplots(figsize=(8, 6.5), constrained_layout=True)
    small, step = preview(velocity_mm)
    dy, dx = (abs(v) * step for v in grid.spacing)
    extent = (west, west + small.shape[1] * dx, north - small.shape[0] * dy, north)
    im = ax.imshow(
        small, extent=extent, origin="upper", cmap="RdBu_r",
        vmin=-limit, vmax=limit, interpolation="nearest", aspect=aspect,
    )  # fmt: skip
    cb = fig.colorbar(im, ax=ax, shrink=0.8, pad=0.02)
    cb.set_label(f"LOS velocity (mm/yr), + toward satellite, {frame_label}")
    if stations and len(stations.get("lon", [])):
        status = np.asarray(stations["status"])
        sx, sy = _plot_xy(grid, np.asarray(stations["lat"]), np.asarray(stations["lon"]))
        inside = (sx >= west) & (sx <= east) & (sy >= south) & (sy <= north)
        used = inside & (status == "used")
        residual = np.asarray(stations["residual"], dtype=float)
        rlim = symmetric_limit(residual[used], 100.0) if used.any() else 1.0
        sc = ax.scatter(
            sx[used], sy[used], c=residual[used], cmap="PuOr_r", vmin=-rlim, vmax=rlim,
            s=70, edgecolors="k", linewidths=0.8, zorder=3, label="GNSS used",
        )  # fmt: skip
        cb2 = fig.colorbar(sc, ax=ax, shrink=0.8, pad=0.01, location="left")
        cb2.set_label("GNSS residual InSAR - GNSS (mm/yr)")
        outlier = inside & (status == "outlier")
        ax.scatter(sx[outlier], sy[outlier], marker="x", c="k", s=60, zorder=3,
                   label="GNSS outlier")  # fmt: skip
        other = inside & ~used & ~outlier
        ax.scatter(sx[other], sy[other], marker="o", facecolors="none", edgecolors="0.3",
                   s=40, zorder=3, label="GNSS not used")  # fmt: skip
        for name, x, y in zip(np.asarray(stations["station"])[used], sx[used], sy[used],
                              strict=True):  # fmt: skip
            ax.annotate(name, (x, y), xytext=(4, 4), textcoords="offset points", fontsize=7)
    if reference_lonlat is not None:
        ref_xy = _plot_xy(grid, reference_lonlat[1], reference_lonlat[0])
        ax.plot(*ref_xy, "ks", ms=7, mfc="none", mew=1.5, label="reference point")
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_xlabel("longitude (deg)" if geographic else f"easting (m, {grid.crs})")
    ax.set_ylabel("latitude (deg)" if geographic else f"northing (m, {grid.crs})")
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize=7, framealpha=0.8)
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png", metadata=dict(metadata or {}))
    plt.close(fig)
    return Path(path)


def plot_timeseries_points(
    path: str | Path,
    times: Sequence[datetime],
    series_mm: Mapping[str, np.ndarray],
    gnss_rates_mm: Mapping[str, float],
    reference_time: datetime,
    title: str,
    dpi: int = 120,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Displacement time series (mm) of a few points, with GNSS LOS rates as dashed lines.

    Parameters
    ----------
    path : str or Path
        PNG to write.
    times : sequence of datetime
        Sensing times.
    series_mm : mapping
        Label → displacement (mm) per date.
    gnss_rates_mm : mapping
        Label → GNSS LOS velocity (mm/yr) drawn through zero at ``reference_time``.
    reference_time : datetime
        Reference date of the time series.
    title : str
        Figure title.
    dpi : int
        Resolution.
    metadata : mapping, optional
        PNG text chunks (the products' provenance).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sar4tec.files import decimal_years

    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    t_years = decimal_years(times, reference_time)
    naive = [t.replace(tzinfo=None) for t in times]
    for k, (label, series) in enumerate(series_mm.items()):
        color = f"C{k % 10}"
        ax.plot(naive, series, "o-", ms=3, lw=1, color=color, label=label)
        if label in gnss_rates_mm and np.isfinite(gnss_rates_mm[label]):
            ax.plot(naive, gnss_rates_mm[label] * t_years, "--", color=color, lw=1,
                    label=f"{label} GNSS LOS rate")  # fmt: skip
    ax.axhline(0.0, color="0.5", lw=0.5)
    ax.set_ylabel("LOS displacement (mm), + toward satellite")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    fig.autofmt_xdate()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png", metadata=dict(metadata or {}))
    plt.close(fig)
    return Path(path)
