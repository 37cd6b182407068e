"""Leaderboards: points earned by week, month or for all time, among all members or in a store."""
