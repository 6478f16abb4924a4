"""The database seam: models, statement builders, engines and the notification listener.

Internal: no stability promise. Nothing outside ``chancy.db`` builds SQL; everything
Postgres-specific (SKIP LOCKED, LISTEN/NOTIFY, arrays, ON CONFLICT) is confined here.
"""
