"""Queries used by handlers and services. Callers own the transaction: nothing here commits."""
