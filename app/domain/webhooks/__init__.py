"""Webhooks: integration clients subscribe to events and are told of them over HTTPS."""
