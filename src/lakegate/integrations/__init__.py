"""lakegate.integrations."""
