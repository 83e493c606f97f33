"""Accounts, roles, sessions, invitations and password resets."""
