"""Game days: per-minute load schedules for rehearsing an event, from the forecast. Pure pandas; the Spark side
(cloudtune/spark/gameday.py) reads the window's forecast rows and calls `build_schedule`."""
from cloudtune.gameday.journey import JourneyConfig, load_journey
from cloudtune.gameday.schedule import GameDaySchedule, Occurrence, build_schedule, split_integers
from cloudtune.gameday.window import find_occurrence

__all__ = ["GameDaySchedule", "JourneyConfig", "Occurrence", "build_schedule", "find_occurrence", "load_journey",
           "split_integers"]
