"""The HTTP doors: thin translation between wire formats and services."""
