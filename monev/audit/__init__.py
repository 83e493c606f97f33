"""The append-only, hash-chained audit log every capability writes to."""
