"""Dagster wiring by layer: sources, staging, warehouse, publication, automation."""

OWNERS = ["team:data-engineering"]
