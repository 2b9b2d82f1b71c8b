"""Rasa's Slack and Telegram connectors with the checks and fixes the product needs."""
