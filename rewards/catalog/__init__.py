"""The reward catalog: what members can get for their points, and redeeming it."""
