"""Judging: event judges, assignments, score sheets and scores."""
