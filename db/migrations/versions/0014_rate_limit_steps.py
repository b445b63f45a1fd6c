"""Attempt counters in one statement per batch, committed without waiting for the WAL.

A login touched its counters in seven autocommitted statements (seven round trips and
seven commits, each waiting for the WAL flush): `rate_limit_steps` applies a batch of
counter steps in order, in the statement's own transaction, and stops at the first
counted attempt past its limit (that count stands, as before). Counters need not outlive
a crash of the database, so their commit does not wait for the WAL flush
(`synchronous_commit` off for that transaction only).

A batch holds its counters' row locks until it commits: batches that share counters
take them in one order (see api.attempts).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        r"""
        CREATE FUNCTION rate_limit_steps(
          ops text[], keys text[], windows interval[], costs integer[], limits integer[], at timestamptz
        ) RETURNS TABLE (stopped integer, window_start timestamptz, within boolean[])
        LANGUAGE plpgsql AS $$
        #variable_conflict use_column
        DECLARE
          n integer;
          started timestamptz;
          answers boolean[] := '{}';
        BEGIN
          PERFORM set_config('synchronous_commit', 'off', true);
          FOR i IN 1 .. coalesce(array_length(ops, 1), 0) LOOP
            IF ops[i] IN ('take', 'within') THEN
              INSERT INTO rate_limit_counter AS c (key, window_start, count) VALUES (keys[i], at, costs[i])
              ON CONFLICT (key) DO UPDATE SET
                window_start = CASE WHEN c.window_start <= at - windows[i] THEN at ELSE c.window_start END,
                count = CASE WHEN c.window_start <= at - windows[i] THEN costs[i] ELSE c.count + costs[i] END
              RETURNING c.count, c.window_start INTO n, started;
              IF ops[i] = 'within' THEN
                answers := answers || (n <= limits[i]);
              ELSIF n > limits[i] THEN
                stopped := i; window_start := started; within := answers;
                RETURN NEXT;
                RETURN;
              END IF;
            ELSIF ops[i] = 'give_back' THEN
              UPDATE rate_limit_counter SET count = greatest(count - costs[i], 0)
              WHERE key = keys[i] AND rate_limit_counter.window_start > at - windows[i];
            ELSIF ops[i] = 'clear' THEN
              DELETE FROM rate_limit_counter WHERE key = keys[i];
            ELSE
              RAISE EXCEPTION 'unknown rate limit step %', ops[i];
            END IF;
          END LOOP;
          stopped := 0; window_start := NULL; within := answers;
          RETURN NEXT;
        END $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION rate_limit_steps(text[], text[], interval[], integer[], integer[], timestamptz)")
