"""A REST service that computes backpropagation for dense feed-forward networks."""

__version__ = "0.1.0"
