"""Renderers: one module per output format (text, latex, markdown, json)."""
