"""The append-only points ledger and the balance kept beside it (design rule 2)."""
