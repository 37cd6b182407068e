"""Instant-win games (a wheel, a scratch card): plays earned by purchases or engagement, drawn on the server."""
