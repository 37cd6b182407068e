"""Challenges ("parcours gagnants"): steps to do inside a time window, in any order or in sequence,
rewarded once on completion."""
