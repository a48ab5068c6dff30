"""Webhooks out (issue #21): subscriptions per campaign, an outbox written with each event, signed deliveries."""
