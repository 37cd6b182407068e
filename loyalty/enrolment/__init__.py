"""Enrolling new members: their profile, their sponsor, their entry tier."""
