"""Capacity planning: forecasts -> instances by type, generation and location, capacity orders, regional roll-up.

Pure pandas; cloudtune/spark/capacity.py reads the tables and calls these functions.
"""
from cloudtune.capacity.config import CapacityConfig, load_capacity
from cloudtune.capacity.fleet import check_fleet, load_fleet
from cloudtune.capacity.plan import CapacityPlan, plan_capacity
from cloudtune.capacity.sizing import region_options, size_region

__all__ = ["CapacityConfig", "CapacityPlan", "check_fleet", "load_capacity", "load_fleet", "plan_capacity",
           "region_options", "size_region"]
