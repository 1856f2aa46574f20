"""Measuring tools (detection quality and speed on the privacy corpus). Not used at runtime."""
