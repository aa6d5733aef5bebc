"""The run report: one self-contained HTML page (inline CSS and SVG) for a forecast run.

    from cloudtune.report import ReportData, PlotData, render_report
    html = render_report(ReportData(run={...}, plots=[...], accuracy=..., ...))

`cloudtune.spark.report_data.load_report_data` fills a ReportData from the Delta tables; `cloudtune report`
writes the file.
"""
from cloudtune.report.page import PlotData, ReportData, accuracy_summary, render_report

__all__ = ["PlotData", "ReportData", "accuracy_summary", "render_report"]
