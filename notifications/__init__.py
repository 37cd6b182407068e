"""Scenarios (journeys), channels, marketing-pressure rules, tracking, and the scheduler process."""
