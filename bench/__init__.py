"""Benchmarks of Fokus-Coach: cost per user from 1,000 to 100,000 users (``python -m bench``)."""
