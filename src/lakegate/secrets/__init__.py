"""Secrets: providers (env, secrets.toml, Azure Key Vault), naming convention, migration."""
