"""Finance cases and their Monte Carlo (the shell around :mod:`finance`)."""
