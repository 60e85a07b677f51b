"""lakegate.jobs."""
