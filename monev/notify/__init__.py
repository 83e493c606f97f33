"""Notifications: every change that concerns a person reaches them once, after it commits."""
