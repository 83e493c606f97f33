"""The KIM's entry workspace: profile, evidence files and links, submission."""
