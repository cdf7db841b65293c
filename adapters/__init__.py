"""Edges to other systems, each loaded through a ``setup(app, settings)`` hook."""
