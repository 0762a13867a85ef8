"""GNSS referencing: station-velocity readers, plate motion (Euler poles), GNSS calibration."""
