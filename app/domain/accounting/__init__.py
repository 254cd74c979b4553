"""Accounting: the company, its chart of accounts (and, to come, the ledger)."""
