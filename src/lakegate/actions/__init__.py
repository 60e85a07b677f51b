"""lakegate.actions."""
