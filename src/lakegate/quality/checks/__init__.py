"""Check implementations, one module per family; each check type = model + implementation."""
