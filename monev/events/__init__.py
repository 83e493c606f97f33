"""Events (one Monev per year), their stages, categories, status and quotas."""
