"""The automation conditions declared on the assets (evaluated by the `automation` sensor,
defs/automation.py, when it is on).

- raw sources: checked on a cron that follows the publisher's cadence (acquire/cadence.py);
  a check that finds the same bytes gives the same data version, so nothing downstream moves;
- staging, warehouse tables and the warehouse release: run when an input has a new data
  version (or their own code changed, or they are missing), and only once every blocking
  check upstream passed;
- packages and the publication release: none; they are released on their own schedule.
"""

import dagster as dg

AC = dg.AutomationCondition


def source_check(cron: str) -> dg.AutomationCondition:
    return (
        (AC.cron_tick_passed(cron, "UTC").with_label(f"cron {cron} (UTC) passed")
         | AC.newly_missing()).since_last_handled()
        & ~AC.in_progress()
    ).with_label(f"checked upstream on {cron} (UTC)")


def inputs_changed() -> dg.AutomationCondition:
    changed = AC.any_deps_match(AC.data_version_changed()).with_label(
        "an input has a new data version")
    return (
        (changed | AC.code_version_changed() | AC.newly_missing()).since_last_handled()
        & AC.all_deps_blocking_checks_passed()
        & ~AC.any_deps_missing()
        & ~AC.any_deps_in_progress()
        & ~AC.in_progress()
    ).with_label("inputs changed and every blocking check upstream passed")


def daily_check(cron: str = "0 6 * * *") -> dg.AutomationCondition:
    """For the vintage freshness checks: evaluated once a day."""
    return AC.cron_tick_passed(cron, "UTC").with_label(f"daily at {cron} (UTC)")
