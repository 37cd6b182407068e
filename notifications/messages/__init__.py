"""Messages: durable rows rendered per channel, delivered with retries, tracked, measured."""
