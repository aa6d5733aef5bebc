"""Change explanations: why a forecast quantity moved between two runs, in parts that add up.

    from cloudtune.explain import SeriesInput, explain_change
    exp = explain_change([SeriesInput(key, history_a, history_b, flags_a, flags_b)], model_settings, events,
                         anchor="2025-12-08", quantity="total_4w")
    print(exp.text())

Pure pandas/numpy; `cloudtune.spark.report_data.load_explain_inputs` reads the inputs from the Delta tables.
"""
from cloudtune.explain.attribution import differences, lmdi, log_mean
from cloudtune.explain.change import (PARTS, PUBLISHED, QUANTITIES, RECONCILIATION, Explanation, SeriesInput,
                                      add_published, explain_change, group_of)

__all__ = ["PARTS", "PUBLISHED", "QUANTITIES", "RECONCILIATION", "Explanation", "SeriesInput", "add_published",
           "differences", "explain_change",
           "group_of", "lmdi", "log_mean"]
