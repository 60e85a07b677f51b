"""API request and response models (pydantic), separate from the catalog's table models."""
