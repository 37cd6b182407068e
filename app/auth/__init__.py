"""Authentication (API clients and members, with JWTs) and who may call what."""
