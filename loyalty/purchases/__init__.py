"""Purchases and returns from tills, the web shop and the app, and the points they earn."""
