"""Rasa NLU components of our own, named in config.yml; each one keeps Rasa's results
and removes work that made the server slow to start or slow per message."""
