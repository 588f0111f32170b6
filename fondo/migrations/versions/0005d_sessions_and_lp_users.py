"""revocable sign-in sessions; investor users linked to limited partners

Revision ID: 0005d
Revises: 0004
Create Date: 2026-12-01 09:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0005d'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_token_sha256'), ['token_sha256'], unique=True)
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('limited_partner_users',
    sa.Column('limited_partner_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['limited_partner_id'], ['limited_partners.id'], name=op.f('fk_limited_partner_users_limited_partner_id_limited_partners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_limited_partner_users_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('limited_partner_id', 'user_id', name=op.f('pk_limited_partner_users'))
    )
    with op.batch_alter_table('limited_partner_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_limited_partner_users_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('limited_partner_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_limited_partner_users_user_id'))

    op.drop_table('limited_partner_users')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_user_sessions_token_sha256'))

    op.drop_table('user_sessions')
