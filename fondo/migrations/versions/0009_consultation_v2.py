"""consultation protocol version 2 (issue 13): project decisions (permits, land contracts,
the social impact assessment resolution) and the translators and interpreters the community
accepted

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 04:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('project_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=300), nullable=False),
    sa.Column('authority', sa.String(length=300), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('premature_reason', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=320), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_decisions_project_id_projects')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_project_decisions_consultation_id_consultations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_decisions'))
    )
    with op.batch_alter_table('project_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_decisions_project_id'), ['project_id'], unique=False)

    op.create_table('consultation_language_agents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=120), nullable=False),
    sa.Column('variant', sa.String(length=200), nullable=False),
    sa.Column('accepted_on', sa.Date(), nullable=False),
    sa.Column('acceptance_reference', sa.String(length=300), nullable=False),
    sa.Column('recorded_by', sa.String(length=320), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_consultation_language_agents_consultation_id_consultations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_language_agents'))
    )
    with op.batch_alter_table('consultation_language_agents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_language_agents_consultation_id'), ['consultation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('consultation_language_agents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_language_agents_consultation_id'))
    op.drop_table('consultation_language_agents')
    with op.batch_alter_table('project_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_decisions_project_id'))
    op.drop_table('project_decisions')
