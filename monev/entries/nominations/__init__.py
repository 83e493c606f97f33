"""Nominations: districts put KIMs forward, the organiser accepts or rejects them."""
