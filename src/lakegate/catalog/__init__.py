"""lakegate.catalog."""
