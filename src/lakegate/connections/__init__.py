"""Tenant connections: named sources with encrypted secrets (see :mod:`.service`)."""
