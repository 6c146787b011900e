"""Tier metrics. Importing this package registers every metric (see base.py)."""

from loyalty.metrics import assets, credit, products, reviews, transactions  # noqa: F401
from loyalty.metrics.base import Metric, Window, get_metric, metric_choices, register

__all__ = ["Metric", "Window", "get_metric", "metric_choices", "register"]
