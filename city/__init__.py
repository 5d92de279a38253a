"""The city tier: every centre's journal collected into PostgreSQL, the city's pages."""
