"""Energy-yield studies (the shell around :mod:`siting.yield_study`)."""
