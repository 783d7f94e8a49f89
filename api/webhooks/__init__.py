"""Outbound webhooks: subscriptions per scope and their deliveries."""
