"""Outliers: event-aware automatic detection plus manual exclude and keep windows, as auditable flags."""
from cloudtune.outliers.flags import FLAG_COLUMNS, REASONS, detect_outliers, detect_series_outliers, mask_from_flags
from cloudtune.outliers.settings import DetectSettings, ManualWindow, OutlierSettings, TeamSettings

__all__ = [
    "FLAG_COLUMNS", "REASONS", "detect_outliers", "detect_series_outliers", "mask_from_flags",
    "DetectSettings", "ManualWindow", "OutlierSettings", "TeamSettings",
]
