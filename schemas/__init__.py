"""The vocabulary of the whole system: the API, the workflows and the simulator speak these models."""
