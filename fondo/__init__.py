"""fondo package."""
