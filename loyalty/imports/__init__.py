"""Bulk imports of members (with their opening balances), historical purchases and point adjustments,
streamed from CSV or JSON lines, row by idempotent row."""
