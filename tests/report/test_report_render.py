"""The report renders in a real browser, offline: every plot reaches the DOM and the screenshot is not blank.

Needs Debian's `chromium` (.ci/chromium installs it); skipped with the reason when it is absent.
"""
import pytest

from chromium import dump_dom, find_chromium, png_pixels, screenshot
from cloudtune.report import ReportData, render_report
from html_parse import parse
from test_report_html import RUN, _accuracy, _explanation, _plot

BROWSER = find_chromium()
pytestmark = pytest.mark.skipif(BROWSER is None, reason="chromium is not installed (run .ci/chromium, or "
                                                        "apt-get install chromium); cannot render the report")


def test_report_renders_in_headless_chromium_with_its_plots(tmp_path):
    html = render_report(ReportData(run=RUN, accuracy=_accuracy(), plots=[_plot()], levels=["series"],
                                    explanations=[_explanation()], previous_run=dict(run_id="B", run_date="x")))
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    dom = dump_dom(BROWSER, page)
    parsed = parse(dom)
    assert parsed.tags.get("svg") == parse(html).tags["svg"] == 8  # the browser kept every chart
    assert parsed.tags.get("polyline", 0) >= 4 and parsed.tags.get("rect", 0) > 10
    assert "accuracy-summary" in dom
    png = screenshot(BROWSER, page, tmp_path / "report.png", 1200, 1600)
    width, height, raw = png_pixels(png)
    assert (width, height) == (1200, 1600)
    non_white = sum(1 for b in raw[::97] if b < 200)
    assert non_white > len(raw[::97]) * 0.01, "the screenshot is blank"
