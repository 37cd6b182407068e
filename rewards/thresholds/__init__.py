"""Point thresholds ("paliers"): crossing one unlocks a reward, issued at once or left to claim."""
