"""Hierarchical forecast reconciliation: coherent means and consistent quantiles at every level.

Means: reconciled bottom = P @ base (P from the method, see methods.py), clipped at zero, and every level is
S @ that bottom, so parents equal the sums of their children exactly. Quantiles (see quantiles.py): bottom series keep
their base spreads around the reconciled mean; a parent's spread is its children's spreads summed with the residual
correlation, sqrt(d' R d) (between independent and comonotone; comonotone without residuals); all quantiles are
clipped at zero and made non-decreasing.

Pure numpy/pandas; cloudtune.spark.reconcile maps `reconcile_frame` over (metric, grain, time block) groups.

    from cloudtune.reconcile import ReconcileSettings, reconcile
    reconciled, info = reconcile(base_forecasts, ReconcileSettings(), residuals=residuals)
"""
from cloudtune.reconcile.frame import reconcile_frame
from cloudtune.reconcile.hierarchy import LEVELS, Hierarchy, aggregate_levels, build_hierarchies, check_nodes
from cloudtune.reconcile.local import fit_projections, reconcile, series_means
from cloudtune.reconcile.methods import METHODS, projection_matrix, shrink_covariance
from cloudtune.reconcile.projection import Projection, fit_projection
from cloudtune.reconcile.quantiles import quantile_columns
from cloudtune.reconcile.residuals import ResidualSummary, summarize_residuals
from cloudtune.reconcile.settings import ReconcileSettings

__all__ = [
    "LEVELS", "METHODS", "Hierarchy", "Projection", "ReconcileSettings", "ResidualSummary", "aggregate_levels",
    "build_hierarchies", "check_nodes", "fit_projection", "fit_projections", "projection_matrix",
    "quantile_columns", "reconcile", "reconcile_frame", "series_means", "shrink_covariance", "summarize_residuals",
]
