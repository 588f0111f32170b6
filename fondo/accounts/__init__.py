"""Users, roles, password hashes and API tokens."""
