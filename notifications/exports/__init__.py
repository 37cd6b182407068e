"""Exports for the brand's systems: the data warehouse's datasets."""
