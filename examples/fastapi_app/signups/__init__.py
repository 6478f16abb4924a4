"""A FastAPI service that queues a welcome email in the same transaction as the signup."""
