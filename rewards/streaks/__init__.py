"""Streaks: consecutive days or weeks with a qualifying activity, in the member's time zone."""
