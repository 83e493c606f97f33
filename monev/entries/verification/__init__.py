"""Verification of submitted entries (organiser) and the districts' progress view."""
