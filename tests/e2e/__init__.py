"""End to end: a real server process, driven over HTTP by tools and clients written elsewhere."""
