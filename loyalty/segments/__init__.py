"""Segments: named audiences defined as data, evaluated by one set-based SQL query."""
