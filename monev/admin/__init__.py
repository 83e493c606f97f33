"""The organiser's pages: dashboard, accounts, outbox."""
