"""Entries: a KIM's participation in an event, from nomination to submission."""
