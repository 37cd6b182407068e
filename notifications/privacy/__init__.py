"""Data-subject requests: a member's data exported as one document, or erased (pseudonymised)."""
