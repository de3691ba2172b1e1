"""Framework integrations, installed as autotrack.integrations.<framework>; each is a plugin."""
