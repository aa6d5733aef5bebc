"""The pipeline config (conf/pipeline.yaml): typed, strict, with defaults for every key."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cloudtune.backtest.settings import BacktestSettings
from cloudtune.config.durations import parse_duration
from cloudtune.config.strict import from_dict, load_yaml
from cloudtune.errors import ConfigError
from cloudtune.models.settings import ModelSettings
from cloudtune.outliers.settings import OutlierSettings
from cloudtune.reconcile.settings import ReconcileSettings

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "conf" / "pipeline.yaml"
GRAINS = ("1min", "5min", "15min", "30min", "1h", "1d", "1w")


@dataclass(frozen=True)
class SparkSettings:
    master: str = "local[*]"
    app_name: str = "cloudtune"
    # Any extra Spark setting, e.g. spark.sql.shuffle.partitions: "8". spark-submit --conf wins over these.
    conf: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IngestSettings:
    grain: str = "1min"  # every ts must sit on this grain (UTC, counted from the epoch)

    def __post_init__(self):
        if self.grain not in GRAINS:
            raise ValueError(f"grain must be one of {', '.join(GRAINS)}, got {self.grain!r}")
        parse_duration(self.grain, "ingest.grain")


@dataclass(frozen=True)
class SimulateSettings:
    services: list[str] = field(default_factory=lambda: ["home", "search", "detail", "cart", "checkout", "payments"])
    regions: list[str] = field(default_factory=lambda: ["us", "in", "uk"])
    metrics: list[str] = field(default_factory=lambda: ["requests", "orders"])
    end: str = "2025-12-08"  # exclusive: history ends at this midnight UTC
    days: int = 28
    seed: int = 7


@dataclass(frozen=True)
class ForecastSettings:
    """What the daily forecast run produces for each series."""
    horizon: str = "90d"
    grain: str = "1min"
    history_days: int = 120  # history read per series; older actuals stay in the table
    components_grain: str = "1h"  # components are written as means over this grain
    components_horizon: str = "14d"
    peak_paths: int = 500  # sample paths per event occurrence for peak quantiles
    peaks_within: str = "365d"  # event_peaks for occurrences starting this soon after the history
    components: bool = True  # write forecast_components
    peaks: bool = True  # write event_peaks
    residual_days: int = 28  # hourly in-sample residuals kept per series, for MinT reconciliation
    max_failed_share: float = 0.05  # the run fails (exit 1) when more series than this share fail

    def __post_init__(self):
        for name in ("horizon", "components_horizon", "peaks_within"):
            parse_duration(getattr(self, name), f"forecast.{name}")
        for name in ("grain", "components_grain"):  # a table's grain column holds one of these names
            if getattr(self, name) not in GRAINS:
                raise ValueError(f"forecast.{name} must be one of {', '.join(GRAINS)}, got {getattr(self, name)!r}")
        if self.history_days < 1 or self.peak_paths < 10 or self.residual_days < 0:
            raise ValueError("history_days must be >= 1, peak_paths >= 10 and residual_days >= 0")
        if not 0 <= self.max_failed_share <= 1:
            raise ValueError(f"max_failed_share must be a share between 0 and 1, got {self.max_failed_share}")


@dataclass(frozen=True)
class LongRangeSettings:
    """The weekly two-year extract for data-center planners (jobs/long_range_extract.py)."""
    weeks: int = 104
    history_days: int = 730  # yearly seasonality needs more than a year; shorter histories leave it out
    export_dir: str = ""  # CSV and Parquet exports; default <warehouse>/exports/long_range

    def __post_init__(self):
        if not 1 <= self.weeks <= 104:
            raise ValueError(f"weeks must be between 1 and 104 (the model's reach), got {self.weeks}")
        if self.history_days < 14:
            raise ValueError(f"history_days must be at least 14, got {self.history_days}")


@dataclass(frozen=True)
class PipelineConfig:
    database: str = "cloudtune"
    events_dir: str = "conf/events"  # relative paths resolve against the config file's folder's parent
    capacity_dir: str = "conf/capacity"  # instance catalog, per-service capacity models, game-day journeys
    spark: SparkSettings = field(default_factory=SparkSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    simulate: SimulateSettings = field(default_factory=SimulateSettings)
    forecast: ForecastSettings = field(default_factory=ForecastSettings)
    long_range: LongRangeSettings = field(default_factory=LongRangeSettings)
    reconcile: ReconcileSettings = field(default_factory=ReconcileSettings)
    backtest: BacktestSettings = field(default_factory=BacktestSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    outliers: OutlierSettings = field(default_factory=OutlierSettings)
    source: str = field(default="<defaults>", compare=False, repr=False)

    def resolve(self, path: str) -> Path:
        """A path from the config: absolute, or relative to the project that holds the config's conf/ folder,
        or else to the working directory (a config file kept elsewhere still finds ./conf/events)."""
        p = Path(path)
        if p.is_absolute():
            return p
        candidates = [Path.cwd() / p]
        if not self.source.startswith("<"):
            candidates.insert(0, Path(self.source).resolve().parent.parent / p)
        return next((c for c in candidates if c.exists()), candidates[0])

    def config_hash(self) -> str:
        body = {k: v for k, v in asdict(self).items() if k != "source"}
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]


def load_config(path: str | Path | None = None) -> PipelineConfig:
    """Load and validate a pipeline config; `None` means the bundled conf/pipeline.yaml."""
    if path is None and not DEFAULT_CONFIG.exists():
        raise ConfigError(f"no --config given and the default {DEFAULT_CONFIG} does not exist: an installed wheel "
                          "carries no conf/ folder, so pass --config PATH (or load_config(path)), e.g. a checkout's "
                          "conf/pipeline.yaml")
    path = Path(path) if path is not None else DEFAULT_CONFIG
    data = load_yaml(path)
    data = dict(data or {})
    config = from_dict(PipelineConfig, data, source=str(path))
    return _with_source(config, str(path))


def _with_source(config: PipelineConfig, source: str) -> PipelineConfig:
    object.__setattr__(config, "source", source)
    return config
