"""Synthetic demo data: :func:`demo.generate.generate` builds every table deterministically."""
