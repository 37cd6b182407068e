"""Engagement: points for the signs of attachment that are not purchases, and referrals."""
