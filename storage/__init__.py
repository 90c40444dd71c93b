"""Storage layer: one repository (`Store`) over SQLite or PostgreSQL/PostGIS."""

from storage.schema import TABLES
from storage.store import Store, open_store

__all__ = ["TABLES", "Store", "open_store"]
