"""HTTP: blueprints for the API (/api/v1), introspection (/-/), and one error handler."""
