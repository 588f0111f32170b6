"""Corridor screenings and site checks (the shell around :mod:`siting.screening`)."""
