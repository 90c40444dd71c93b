"""Incident import and export: reading files (readers), mapping columns (columns), the pipeline."""
