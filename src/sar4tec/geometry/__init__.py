"""LOS unit vectors, incidence/heading and ellipsoid coordinate helpers."""

from sar4tec.geometry.ellipsoid import ecef_to_enu_vectors, enu_to_ecef_vectors, geodetic_to_ecef
from sar4tec.geometry.los import incidence_heading_from_los, los_unit_vector, project_enu_to_los

__all__ = [
    "ecef_to_enu_vectors",
    "enu_to_ecef_vectors",
    "geodetic_to_ecef",
    "incidence_heading_from_los",
    "los_unit_vector",
    "project_enu_to_los",
]
