"""The coaching content (flows, templates, rules): data only, edited here by the coaches.

This file only makes the folder a package: the build maps it to ``bot.prompts`` (pyproject.toml),
so wheels and sdists carry the content and ``importlib.resources`` finds it in an installed
package as well as in a clone (bot/core/content.py).
"""
