"""consultation package."""
