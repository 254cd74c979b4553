"""Queries for webhook subscriptions and their deliveries."""
