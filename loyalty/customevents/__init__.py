"""Custom events: event types the brand defines with a JSON Schema, and the occurrences its systems post."""
