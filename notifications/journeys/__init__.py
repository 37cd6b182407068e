"""Journeys: one member going through one scenario, step by step, on a durable schedule."""
