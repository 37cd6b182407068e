"""Scenarios: the journeys a brand designs (trigger, steps, goal, re-entry, holdout, variants), as data."""
