import pandas as pd

import pytest

from cloudtune.errors import InputError
from cloudtune.events.calendar import _normalized, normalize_events


def _calendar():
    return pd.DataFrame(dict(name=["prime_day", "black_friday"], region=["us", "us"],
                             start=["2025-07-08", "2025-11-28T00:00:00"], end=["2025-07-10", "2025-11-29"]))


def test_a_normalized_calendar_passes_through_as_a_copy():
    once = normalize_events(_calendar())
    assert _normalized(once)  # the check itself is skipped
    twice = normalize_events(once)
    pd.testing.assert_frame_equal(twice, once)
    twice.loc[0, "region"] = "uk"  # the caller's copy: the calendar it came from is not changed
    assert (once["region"] == "us").all()


def test_a_calendar_with_the_right_types_but_out_of_order_is_sorted():
    once = normalize_events(_calendar())
    backwards = once.iloc[::-1].reset_index(drop=True)
    pd.testing.assert_frame_equal(normalize_events(backwards), once)
    assert list(normalize_events(once.assign(start=once["start"].dt.tz_localize(None)))["start"]) == list(once["start"])


def test_a_calendar_that_only_looks_normalized_is_checked():
    once = normalize_events(_calendar())
    assert not _normalized(once.astype({"region": "string"}))
    assert not _normalized(once.set_index(pd.Index([5, 6])))
    assert not _normalized(once.assign(name=[1, 2]))
    with pytest.raises(InputError, match="ends at or before it starts"):
        normalize_events(once.assign(end=once["start"]))
