"""aiogram wiring: routers (one per flow), middlewares, and the Bot/Dispatcher factory."""
