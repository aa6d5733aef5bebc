"""Errors CloudTune raises on purpose. Each message names what is wrong and how to fix it."""


class CloudTuneError(ValueError):
    """Base class: a problem with the user's input, config or data, not a bug."""


class ConfigError(CloudTuneError):
    """A config file or value is invalid."""


class InputError(CloudTuneError):
    """An input file or DataFrame does not meet the actuals contract."""


class ModelError(CloudTuneError):
    """A model cannot be fitted or cannot answer the request as given."""


def shorten(items, limit: int = 8) -> str:
    """A readable, bounded list for error messages: 'a, b, c, ... (+12 more)'."""
    items = [str(i) for i in items]
    head = ", ".join(items[:limit])
    return head if len(items) <= limit else f"{head}, ... (+{len(items) - limit} more)"
