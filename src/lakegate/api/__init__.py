"""lakegate.api."""
