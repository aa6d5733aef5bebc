"""The sample fleet simulator: synthetic per-minute history plus the ground truth that produced it.

    from cloudtune.simulate import simulate_fleet
    fleet = simulate_fleet(days=28, seed=7, events=load_calendar("conf/events"))
    fleet.actuals, fleet.components, fleet.outliers, fleet.breaks, fleet.events, fleet.seasonality

Pure pandas/numpy; see series.py for how components combine and truth.py for the truth definitions.
"""
from cloudtune.simulate.fleet import Fleet, simulate_fleet

__all__ = ["Fleet", "simulate_fleet"]
