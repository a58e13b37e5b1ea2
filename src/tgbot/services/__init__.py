"""Services the bot's handlers use, injected through the dispatcher."""
