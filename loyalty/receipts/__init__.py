"""Receipts as recorded: purchases, their lines and returns. The facts the purchase use cases
(``loyalty.purchases``) write, and that segments, referrals, rewards and reports read."""
