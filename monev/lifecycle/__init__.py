"""The competition as a process: readiness of each phase move, the moves themselves, and
the selection between stages. Above every domain it checks; only views import it."""
