"""The fund, its limited partners, projects and candidate sites."""
