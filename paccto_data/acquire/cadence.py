"""A source's release cadence (`release:` in assets/sources/<id>.yaml): when its next vintage
is due, whether the vintage we hold is stale, and when to look upstream for new files.

Freshness follows the data's vintage, never the time a file was read: a source whose newest
vintage is older than its cadence plus its grace period is stale, however recently it was
downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from paccto_data.acquire.records import Source

PERIOD_DAYS = {"monthly": 31, "quarterly": 92, "annual": 365, "biennial": 730, "irregular": 0}
CHECK_HOUR = 6  # UTC; sources are checked before the packages are released (defs/automation.py)


@dataclass(frozen=True)
class Freshness:
    source_id: str
    vintage: str
    cadence: str
    vintage_date: date  # the vintage as a day (a year-only vintage: its expected month)
    due: date  # the last day the next vintage may still be awaited
    as_of: date

    @property
    def stale(self) -> bool:
        return self.as_of > self.due

    @property
    def days_overdue(self) -> int:
        return max(0, (self.as_of - self.due).days)

    def summary(self) -> str:
        if self.stale:
            article = "an" if self.cadence[0] in "aeiou" else "a"
            return (f"{self.source_id}: vintage {self.vintage} is stale: with {article} "
                    f"{self.cadence} "
                    f"cadence and its grace period the next vintage was due by {self.due}, "
                    f"{self.days_overdue} days before {self.as_of}")
        return (f"{self.source_id}: vintage {self.vintage} is current ({self.cadence}; the next "
                f"is due by {self.due})")


def release(source: Source) -> dict:
    return source.release or {"cadence": "irregular", "grace_days": 3650}


def vintage_date(source: Source) -> date:
    parts = [int(p) for p in source.vintage.split("-")]
    if len(parts) == 1:
        return date(parts[0], release(source).get("expected_month") or 1, 1)
    if len(parts) == 2:
        return date(parts[0], parts[1], 1)
    return date(*parts)


def freshness(source: Source, as_of: date) -> Freshness:
    rule = release(source)
    vintage = vintage_date(source)
    due = vintage + timedelta(days=PERIOD_DAYS[rule["cadence"]] + int(rule["grace_days"]))
    return Freshness(source.id, source.vintage, rule["cadence"], vintage, due, as_of)


def check_cron(source: Source) -> str:
    """When a live source is checked for new files: weekly (Mondays) through the window in
    which its next vintage is expected, weekly all year for frequent publishers, monthly for
    irregular ones. `release.check_cron` in the YAML overrides it."""
    rule = release(source)
    if rule.get("check_cron"):
        return rule["check_cron"]
    month = rule.get("expected_month")
    if rule["cadence"] in ("annual", "biennial") and month:
        span = min(11, -(-int(rule["grace_days"]) // 31))  # months of grace, rounded up
        months = sorted({(month - 1 + k) % 12 + 1 for k in range(span + 1)})
        return f"0 {CHECK_HOUR} * {','.join(map(str, months))} 1"
    if rule["cadence"] == "irregular":
        return f"0 {CHECK_HOUR} 1 * *"
    return f"0 {CHECK_HOUR} * * 1"
