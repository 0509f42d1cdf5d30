"""The floor of bench/floor.py: two trivial assets, the in-process executor."""

import dagster as dg


@dg.asset
def first() -> int:
    return 1


@dg.asset
def second(first: int) -> int:
    return first + 1


defs = dg.Definitions(assets=[first, second], executor=dg.in_process_executor)
