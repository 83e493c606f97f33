"""Results: rankings and fairness figures from the scoring core, publication as frozen,
versioned snapshots, exports and the CLI (see ``services.py``)."""
