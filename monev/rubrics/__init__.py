"""Rubrics: aspects and weighted criteria per stage, their validation, import and export."""
