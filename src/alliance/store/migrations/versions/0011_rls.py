"""Row-level security on PostgreSQL: a role sees and writes only its clinic's case data.

* ``cases.clinic_id`` (default 1): the clinic a case belongs to. On PostgreSQL its default is
  the inserting role's clinic.
* ``clinic_roles``: which clinic each application role belongs to (``alliance db
  grant-app-role ROLE --clinic N``); ``alliance_clinic()`` names the connected role's clinic
  (``NULL`` for a role without one: it then sees no case data at all).
* Policies with ``USING`` and ``WITH CHECK`` on ``cases`` (its ``clinic_id``) and on every
  table that holds a client's data (its case is visible, i.e. of the role's clinic).

Defence in depth beside the application's own scoping (every query is scoped to the
actor). The tables' owner (migrations) and superusers bypass the policies; the application
role, which owns no table, cannot. On SQLite only the column and the table are added.

Revision ID: 0011_rls
Revises: 0010_auth
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_rls"
down_revision = "0010_auth"
branch_labels = None
depends_on = None

# every table with a case_id: the client's data (a new one needs a policy too; the tests
# check that every table with a case_id column has one)
CASE_TABLES = ("alert_events", "alert_flips", "case_monitor", "case_signals", "consents",
               "delivery_sends", "delivery_state", "job_failures", "link_tokens", "measures",
               "member_contacts", "members", "responses", "sessions", "survey_links",
               "transcripts", "voids")


def upgrade() -> None:
    op.create_table(
        "clinic_roles",
        sa.Column("role_name", sa.String(length=63), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("role_name", name=op.f("pk_clinic_roles")),
    )
    op.add_column("cases", sa.Column("clinic_id", sa.Integer(), nullable=False,
                                     server_default=sa.text("1")))
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE FUNCTION alliance_clinic() RETURNS integer LANGUAGE sql STABLE AS "
               "$$ SELECT clinic_id FROM clinic_roles WHERE role_name = current_user $$")
    op.execute("ALTER TABLE cases ALTER COLUMN clinic_id SET DEFAULT "
               "coalesce(alliance_clinic(), 1)")
    op.execute("ALTER TABLE cases ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY clinic_isolation ON cases USING (clinic_id = alliance_clinic()) "
               "WITH CHECK (clinic_id = alliance_clinic())")
    for table in CASE_TABLES:
        visible = f"EXISTS (SELECT 1 FROM cases WHERE cases.id = {table}.case_id)"
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY clinic_isolation ON {table} USING ({visible}) "
                   f"WITH CHECK ({visible})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in (*CASE_TABLES, "cases"):
            op.execute(f"DROP POLICY clinic_isolation ON {table}")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE cases ALTER COLUMN clinic_id SET DEFAULT 1")
        op.execute("DROP FUNCTION alliance_clinic()")
    op.drop_column("cases", "clinic_id")
    op.drop_table("clinic_roles")
