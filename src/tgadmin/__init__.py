"""The admin panel: Django 5.2 admin over the bot's PostgreSQL tables."""
