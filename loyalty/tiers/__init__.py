"""Tiers and VIP status: a ladder on qualifying points, upgrades at once, downgrades at review dates."""
