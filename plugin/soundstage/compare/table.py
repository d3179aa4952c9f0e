"""The columns of a comparison's metrics table: level columns, then the spatial ones."""

from __future__ import annotations

from .spatial import SPATIAL_COLUMNS

__all__ = ["TABLE_COLUMNS"]

#: (key, heading, unit) of the level columns of the metrics table, before the spatial ones.
TABLE_COLUMNS = (
    ("loudness_before_lufs", "loudness before", "LUFS"),
    ("gain_db", "matching gain", "dB"),
    ("loudness_after_lufs", "loudness after", "LUFS"),
    ("loudness_range_lu", "loudness range", "LU"),
    ("sample_peak_after_dbfs", "sample peak after", "dBFS"),
    ("true_peak_after_dbtp", "true peak after (4×)", "dBTP"),
    ("crest_factor_db", "crest factor", "dB"),
    ("latency_ms", "latency", "ms"),
) + SPATIAL_COLUMNS
