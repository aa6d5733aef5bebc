"""Events: calendars of moving-date occurrences and their learned effects."""
from cloudtune.events.calendar import CALENDAR_COLUMNS, events_for_region, load_calendar, normalize_events
from cloudtune.events.effects import EffectSettings, EventEffects

__all__ = ["CALENDAR_COLUMNS", "EffectSettings", "EventEffects", "events_for_region", "load_calendar",
           "normalize_events"]
