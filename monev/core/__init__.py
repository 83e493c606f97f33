"""Cross-cutting pieces every domain uses: database set-up, access rules, errors, time."""
