"""Storage layer: one repository (`Store`) over SQLite or PostgreSQL/PostGIS."""

from storage.imports import StaleVersionError
from storage.schema import TABLES
from storage.store import Store, open_store

__all__ = ["TABLES", "StaleVersionError", "Store", "open_store"]
