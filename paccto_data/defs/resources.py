"""Resources, configured from the environment (the README's "Configuration")."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from paccto_data.settings import Settings


class PacctoConfig(dg.ConfigurableResource):
    """Where the platform reads and writes; built from PACCTO_* variables."""

    source_mode: str
    warehouse: str
    build_db: str
    raw_dir: str
    publish_dir: str

    @classmethod
    def from_settings(cls, settings: Settings) -> PacctoConfig:
        return cls(source_mode=settings.source_mode, warehouse=str(settings.warehouse),
                   build_db=str(settings.build_db), raw_dir=str(settings.raw_dir),
                   publish_dir=str(settings.publish_dir))

    @property
    def settings(self) -> Settings:
        return Settings(self.source_mode, Path(self.warehouse), Path(self.build_db),
                        Path(self.raw_dir), Path(self.publish_dir))


def build_resources(settings: Settings) -> dict:
    settings.build_db.parent.mkdir(parents=True, exist_ok=True)
    return {
        "paccto": PacctoConfig.from_settings(settings),
        # The one way to the build database; the released file is written only by
        # `warehouse_release`, through this same connection.
        "duckdb": DuckDBResource(database=str(settings.build_db)),
    }
