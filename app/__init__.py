"""backoffice: an API-first back office (accounting, HR, credit risk, front desk, inventory)."""

__version__ = "0.1.0"
