"""Trigger plugin: the registry table and the ``{prefix}trigger_handler()`` function.

Revision ID: trigger_0001
Revises:
Create Date: 2026-11-28

The function body is frozen here, like any migration: a later change to it is a new
revision that replaces the function.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "trigger_0001"
down_revision = None
branch_labels = ("trigger",)
# The handler's ON CONFLICT targets the unique-key index that core_0002 creates.
depends_on = "core_0002"

TZ = sa.DateTime(timezone=True)

# The prefix is validated (``^[a-z][a-z0-9_]*_$``), so it is safe unquoted in names.
HANDLER = """
CREATE FUNCTION {p}trigger_handler() RETURNS trigger
LANGUAGE plpgsql
-- Resolve {p}jobs and {p}triggers where they were created, whatever the search_path
-- of the session whose INSERT/UPDATE/DELETE fires the trigger.
SET search_path FROM CURRENT
AS $chancy$
DECLARE
    cfg {p}triggers%ROWTYPE;
    tpl jsonb;
    args jsonb;
    source jsonb;
    pair record;
    job_queue text;
    stamp bigint;
    tail bytea;
BEGIN
    -- TG_ARGV[0] is the registry row; it holds the template and the enabled flag, so
    -- enabling or disabling never needs DDL on the user's table.
    SELECT * INTO cfg FROM {p}triggers WHERE id = TG_ARGV[0]::uuid;
    IF NOT FOUND OR NOT cfg.enabled THEN
        RETURN NULL;
    END IF;
    tpl := cfg.job_template;
    args := COALESCE(tpl -> 'k', '{{}}'::jsonb);
    IF TG_LEVEL = 'ROW' THEN
        IF TG_OP = 'DELETE' THEN
            source := to_jsonb(OLD);
        ELSE
            source := to_jsonb(NEW);
        END IF;
        FOR pair IN SELECT key, value FROM jsonb_each_text(cfg.row_kwargs) LOOP
            args := args || jsonb_build_object(pair.key, source -> pair.value);
        END LOOP;
    END IF;
    IF cfg.operation_kwarg IS NOT NULL THEN
        args := args || jsonb_build_object(cfg.operation_kwarg, TG_OP);
    END IF;
    job_queue := COALESCE(tpl ->> 'q', 'default');
    -- The id layout of chancy.utils.chancy_uuid (48 + 12 bits of 100 ns time, version 7,
    -- 62 random bits): the fetch orders by id for FIFO, and a random v4 id would sort
    -- these jobs behind or ahead of every job pushed from Python.
    stamp := floor(extract(epoch FROM clock_timestamp()) * 10000000)::bigint;
    tail := substring(uuid_send(gen_random_uuid()) FROM 9 FOR 8);
    tail := set_byte(tail, 0, (get_byte(tail, 0) & 63) | 128);
    INSERT INTO {p}jobs (
        id, queue, func, kwargs, limits, meta, priority, max_attempts, scheduled_at,
        unique_key
    )
    VALUES (
        encode(
            substring(int8send(stamp >> 12) FROM 3 FOR 6)
            || substring(int4send(28672 | (stamp & 4095)::int) FROM 3 FOR 2)
            || tail,
            'hex'
        )::uuid,
        job_queue,
        tpl ->> 'f',
        args,
        COALESCE(tpl -> 'l', '[]'::jsonb),
        COALESCE(tpl -> 'm', '{{}}'::jsonb) || jsonb_build_object('trigger', jsonb_build_object(
            'id', cfg.id,
            'operation', TG_OP,
            'level', lower(TG_LEVEL),
            'table_name', TG_TABLE_NAME,
            'schema_name', TG_TABLE_SCHEMA,
            'trigger_name', TG_NAME,
            'timestamp', now()
        )),
        COALESCE((tpl ->> 'p')::int, 0),
        COALESCE((tpl ->> 'a')::int, 1),
        now(),
        tpl ->> 'u'
    )
    -- A job with the template's unique key still active: this firing adds nothing.
    ON CONFLICT (unique_key)
        WHERE unique_key IS NOT NULL AND state IN ('pending', 'running', 'retrying')
        DO NOTHING;
    IF FOUND THEN
        -- Identical notifications in one transaction are delivered once, so a row-level
        -- trigger on a bulk UPDATE still wakes the workers with a single message.
        PERFORM pg_notify(
            '{p}events', jsonb_build_object('t', 'queue.pushed', 'q', job_queue)::text
        );
    END IF;
    RETURN NULL;
END;
$chancy$
"""

# Every trigger calling this prefix's handler, wherever it was installed (the registry
# could be stale if a table was renamed): none may outlive the function.
DROP_TRIGGERS = """
DO $chancy$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT tg.tgname, c.relname, n.nspname
        FROM pg_trigger tg
        JOIN pg_class c ON c.oid = tg.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE tg.tgfoid = to_regprocedure('{p}trigger_handler()')
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %I.%I', t.tgname, t.nspname, t.relname);
    END LOOP;
END
$chancy$
"""


def upgrade(table_prefix: str) -> None:
    triggers = f"{table_prefix}triggers"
    op.create_table(
        triggers,
        sa.Column(
            "id",
            pg.UUID(as_uuid=True),
            server_default=sa.text("gen_random_uuid()"),
            nullable=False,
        ),
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("schema_name", sa.Text(), server_default="public", nullable=False),
        sa.Column("trigger_name", sa.Text(), nullable=False),
        sa.Column("operations", pg.JSONB(), nullable=False),
        sa.Column("job_template", pg.JSONB(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("level", sa.Text(), server_default="statement", nullable=False),
        sa.Column("row_kwargs", pg.JSONB(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("operation_kwarg", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{triggers}")),
        sa.UniqueConstraint(
            "schema_name", "table_name", "trigger_name", name=op.f(f"uq_{triggers}_target")
        ),
        sa.CheckConstraint("level IN ('statement', 'row')", name=op.f(f"ck_{triggers}_level")),
    )
    op.create_index(
        f"ix_{triggers}_enabled",
        triggers,
        ["schema_name", "table_name"],
        postgresql_where=sa.text("enabled"),
    )
    op.execute(HANDLER.format(p=table_prefix))


def downgrade(table_prefix: str) -> None:
    op.execute(DROP_TRIGGERS.format(p=table_prefix))
    op.execute(f"DROP FUNCTION IF EXISTS {table_prefix}trigger_handler()")
    op.drop_table(f"{table_prefix}triggers")
