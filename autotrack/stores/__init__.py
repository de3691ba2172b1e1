"""Stores: the embedded local store (default) and the Store interface for backend plugins."""
