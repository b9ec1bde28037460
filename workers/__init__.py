"""Long-running processes: the Temporal worker and shared connection helpers."""
