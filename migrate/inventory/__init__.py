"""Scanning: read an engine, a collector bundle or single files into an Inventory."""
