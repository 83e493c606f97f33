"""Pages anyone can see, and each role's home page."""
