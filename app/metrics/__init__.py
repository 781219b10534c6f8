"""Operational metrics: Prometheus (`/metrics`) and the legacy Carbon plaintext metrics.

The names below are what the pipeline and the service call.
"""

from app.metrics.carbon import flush as flush_carbon
from app.metrics.carbon import send_batch_metrics
from app.metrics.prometheus import observe_attempt, observe_operation
from app.metrics.timing import timed

__all__ = [
    "flush_carbon",
    "observe_attempt",
    "observe_operation",
    "send_batch_metrics",
    "timed",
]
