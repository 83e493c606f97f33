"""Outgoing mail: SMTP when configured, otherwise an outbox folder the admin can read."""
