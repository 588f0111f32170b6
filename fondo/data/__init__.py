"""The bundled real datasets, their manifest and officer-imported layers."""
