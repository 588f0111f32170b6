"""siting package."""
