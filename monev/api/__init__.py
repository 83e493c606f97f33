"""Read-only open-data JSON API of published results (``/api/v1``)."""
