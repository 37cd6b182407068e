"""Badges ("trophées"): earned when a member metric reaches a target, possibly at several levels."""
