"""Pure statement builders: functions of (models, parameters) returning SQLAlchemy statements.

This package is the only place chancy builds SQL, and everything in it is Postgres
(SKIP LOCKED, ON CONFLICT, arrays, pg_notify). Builders do no I/O, so the async API, the
sync twins and the worker all execute the very same statements. Bind parameters are
named and array-typed, so each statement's SQL text is fixed and SQLAlchemy's compiled
cache serves it after the first use, whatever the batch size.
"""
