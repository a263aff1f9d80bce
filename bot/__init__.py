"""Fokus-Coach: focus on the few social channels that fit your audience and your hours."""
