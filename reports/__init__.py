"""Printable outputs rendered on the server: static map images and A4 PDF documents."""
