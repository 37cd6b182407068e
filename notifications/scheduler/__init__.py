"""The scheduler: one pass of everything that is due, and the process that runs passes on a timer."""
