"""Which model answers for a series, and the fallback chain when it cannot.

`model_for(key, settings)`: the first override whose fnmatch pattern matches "service/region/metric", else the
default. `fit_with_fallback` tries that model, then `settings.fallbacks` in order; the report says which model
answered, with status ok / fallback / failed and the reason. A constant series (all zeros included) is answered
by the naive model with status fallback and the reason "constant series".
"""
from __future__ import annotations

import fnmatch
import logging

import numpy as np
import pandas as pd

from cloudtune.errors import CloudTuneError, InputError
from cloudtune.models.engine import CloudTuneModel
from cloudtune.models.ets import ETSModel
from cloudtune.models.naive import NaiveModel, SeasonalNaiveModel
from cloudtune.models.settings import ModelSettings

log = logging.getLogger(__name__)


def model_for(key: tuple, settings: ModelSettings) -> str:
    text = "/".join(str(k) for k in key)
    for o in settings.overrides:
        if fnmatch.fnmatchcase(text, o.pattern):
            return o.model
    return settings.default


def build_spec(name: str, settings: ModelSettings):
    if name == "cloudtune":
        return CloudTuneModel(settings.cloudtune, settings.aggregation)
    if name == "seasonal_naive":
        return SeasonalNaiveModel(None, settings.aggregation)
    if name == "ets":
        return ETSModel(settings.ets_trend, settings.ets_damped, settings.aggregation)
    if name == "naive":
        return NaiveModel(None, settings.aggregation)
    raise InputError(f"unknown model {name!r}; use one of cloudtune, seasonal_naive, ets, naive")


def fit_with_fallback(history, key: tuple, settings: ModelSettings, events=None, regressors=None, outliers=None,
                      grain=None):
    """(fitted or None, report dict with model, status, reason). Input errors (NaN, duplicates, off-grain ts) are
    raised: no model can answer them and the message says how to fix the data."""
    label = "/".join(str(k) for k in key)
    first = model_for(key, settings)
    chain = [first] + [m for m in settings.fallbacks if m != first]
    # Coerced, not cast: text values become NaN here and the spec's validation (grain.regular_series) raises an
    # InputError naming the series and the first offending value, not a bare "could not convert string to float".
    raw = history["value"] if "value" in history else history
    values = pd.to_numeric(pd.Series(np.asarray(raw).ravel()), errors="coerce").to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    reasons, errored = [], False  # errored: a model raised unexpectedly (not a known limit such as short history)
    if finite.size and np.all(finite == finite[0]):
        reasons.append(f"constant series (every value is {finite[0]:g}): flat forecast")
        chain = ["naive"]
    for name in chain:
        spec = build_spec(name, settings)
        try:
            fitted = spec.fit(history, events=events if name == "cloudtune" else None,
                              regressors=regressors if name == "cloudtune" else None,
                              outliers=outliers, grain=grain, key=label)
        except InputError:
            raise
        except CloudTuneError as exc:
            reasons.append(f"{name}: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - a model that raises is a recorded failure; the next one answers
            log.debug("model %s failed on %s", name, label, exc_info=True)
            reasons.append(f"{name}: {type(exc).__name__}: {exc}")
            errored = True
            continue
        status = "ok" if name == first and not reasons else "fallback"
        return fitted, dict(model=name, status=status, reason="; ".join(reasons), errored=errored)
    return None, dict(model="none", status="failed", reason="; ".join(reasons), errored=errored)
