"""HTTP plumbing every router shares: transactions, auth dependencies, problems, idempotency."""
