"""signed heads of the consultation record (Ed25519 anchors held outside the database)

Revision ID: 0005b
Revises: 0004
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0005b'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('consultation_signed_heads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('signed_at', sa.String(length=40), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('published_in', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_consultation_signed_heads_consultation_id_consultations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_signed_heads')),
    sa.UniqueConstraint('consultation_id', 'event_count', 'public_key', name='uq_consultation_signed_heads_count')
    )
    with op.batch_alter_table('consultation_signed_heads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_signed_heads_consultation_id'), ['consultation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('consultation_signed_heads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_signed_heads_consultation_id'))
    op.drop_table('consultation_signed_heads')
