"""Alerts by e-mail and Slack: legacy stage-failure texts, conflicts, stuck stages, daily summary.

The names below are what the pipeline, the scheduler and the CLI call.
"""

from app.notify.conflicts import new_conflicts
from app.notify.dispatch import (
    DispatchResult,
    notify_conflicts,
    notify_daily_summary,
    notify_failures,
    notify_stuck,
    retry_outbox,
)
from app.notify.stuck import stuck_stages_to_alert
from app.notify.summary import build_daily_summary

__all__ = [
    "DispatchResult",
    "build_daily_summary",
    "new_conflicts",
    "notify_conflicts",
    "notify_daily_summary",
    "notify_failures",
    "notify_stuck",
    "retry_outbox",
    "stuck_stages_to_alert",
]
