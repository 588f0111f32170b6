"""join the reliability branches: signed heads, job heartbeats, sessions and LP users,
idempotency keys (issue 10)

Revision ID: 0006
Revises: 0005b, 0005c, 0005d, 0005e
Create Date: 2026-11-30 02:55:00
"""

revision = '0006'
down_revision = ('0005b', '0005c', '0005d', '0005e')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
