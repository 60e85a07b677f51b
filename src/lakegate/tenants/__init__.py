"""lakegate.tenants."""
