import pandas as pd

from cloudtune.events.calendar import normalize_events


def _calendar():
    return pd.DataFrame(dict(name=["prime_day", "black_friday"], region=["us", "us"],
                             start=["2025-07-08", "2025-11-28T00:00:00"], end=["2025-07-10", "2025-11-29"]))


def test_a_normalized_calendar_passes_through_as_a_copy():
    once = normalize_events(_calendar())
    twice = normalize_events(once)
    pd.testing.assert_frame_equal(twice, once)
    twice["region"] = "uk"  # the caller's copy: the calendar it came from is not changed
    assert (once["region"] == "us").all()


def test_a_calendar_with_the_right_types_but_out_of_order_is_sorted():
    once = normalize_events(_calendar())
    backwards = once.iloc[::-1].reset_index(drop=True)
    pd.testing.assert_frame_equal(normalize_events(backwards), once)
    assert list(normalize_events(once.assign(start=once["start"].dt.tz_localize(None)))["start"]) == list(once["start"])
