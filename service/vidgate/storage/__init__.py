"""ContentStore adapters."""
