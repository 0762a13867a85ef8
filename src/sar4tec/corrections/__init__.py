"""Correction layers: troposphere (ERA5), ionosphere (IONEX), solid earth tides (pysolid).

Each effect becomes an apparent line-of-sight displacement in metres, positive toward the
satellite, per acquisition (see ``docs/corrections.md``).  The science lives in
:mod:`~sar4tec.corrections.troposphere`, :mod:`~sar4tec.corrections.ionosphere` (with
:mod:`~sar4tec.corrections.shell` for whole frames) and :mod:`~sar4tec.corrections.tides`;
:mod:`~sar4tec.corrections.layers` writes the frame files.
"""
