"""projects, stages, transitions and gates, project versions (issue 11)

The pipeline's stages become origination → screening → due_diligence → consultation →
financial_close → construction → operation, plus dropped; stored stages of the old names
are renamed (development → due_diligence, financing → financial_close, withdrawn →
dropped) and back on downgrade (origination → screening). Projects gain ``capacity_dc_mw``,
``updated_at`` and ``version`` (optimistic locking); ``project_transitions`` records every
move and ``project_studies`` links yield studies to projects with their approval.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 04:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

STAGES = ('origination', 'screening', 'due_diligence', 'consultation', 'financial_close',
          'construction', 'operation', 'dropped')
#: Old stage name → new (upgrade); the reverse on downgrade, plus origination → screening.
RENAMED = {'development': 'due_diligence', 'financing': 'financial_close',
           'withdrawn': 'dropped'}


def _stage() -> sa.Enum:
    return sa.Enum(*STAGES, name='pipeline_stage', native_enum=False, length=32)


def _rename(mapping: dict[str, str]) -> None:
    projects = sa.table('projects', sa.column('stage', sa.String(32)))
    for old, new in mapping.items():
        op.execute(projects.update().where(projects.c.stage == old).values(stage=new))


def upgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('capacity_dc_mw', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1',
                                      nullable=False))
    _rename(RENAMED)

    op.create_table('project_transitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('from_stage', _stage(), nullable=True),
    sa.Column('to_stage', _stage(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('gates', sa.JSON(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_project_transitions_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_transitions_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_transitions'))
    )
    with op.batch_alter_table('project_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_transitions_project_id'), ['project_id'], unique=False)

    op.create_table('project_studies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('linked_by', sa.String(length=320), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by', sa.String(length=320), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approval_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_project_studies_approved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_studies_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['study_id'], ['yield_studies.id'], name=op.f('fk_project_studies_study_id_yield_studies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_studies')),
    sa.UniqueConstraint('project_id', 'study_id', name='uq_project_studies_project_id')
    )
    with op.batch_alter_table('project_studies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_studies_project_id'), ['project_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('project_studies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_studies_project_id'))
    op.drop_table('project_studies')
    with op.batch_alter_table('project_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_transitions_project_id'))
    op.drop_table('project_transitions')
    _rename({new: old for old, new in RENAMED.items()} | {'origination': 'screening'})
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('capacity_dc_mw')
