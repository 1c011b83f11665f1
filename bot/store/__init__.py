"""Durable state: subscriptions, the delivery ledger, feedback and unanswered questions."""
