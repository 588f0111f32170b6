"""LP ledger, allocations, concentration limits, waterfall parameters (issue 11)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 04:10:00

Money becomes exact: ``limited_partners.commitment_amount`` moves from a float to
:class:`fondo.fund.money.ExactDecimal` (NUMERIC(24, 4) on PostgreSQL, decimal text on
SQLite); existing values are carried over by their shortest decimal representation.
"""

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import fondo.fund.money
import fondo.orm  # noqa: F401

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_ENUM = dict(native_enum=False, length=32)


def upgrade() -> None:
    with op.batch_alter_table('funds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vintage_year', sa.Integer(), nullable=True))
        for name, value in (('preferred_return_rate', '0.08'), ('carried_interest_rate', '0.2'),
                            ('catch_up_rate', '1.0'), ('management_fee_rate', '0.02'),
                            ('discount_rate', '0.08')):
            batch_op.add_column(sa.Column(name, sa.Float(), server_default=sa.text(value),
                                          nullable=False))
        batch_op.add_column(sa.Column('management_fee_years', sa.Integer(),
                                      server_default=sa.text('10'), nullable=False))

    # commitment_amount: float -> exact decimal, through a new column
    with op.batch_alter_table('limited_partners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('commitment_exact', fondo.fund.money.ExactDecimal(24, 4),
                                      nullable=True))
        batch_op.add_column(sa.Column('fx_rate', fondo.fund.money.ExactDecimal(24, 10),
                                      nullable=True))
        batch_op.add_column(sa.Column('fx_rate_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('fx_source', sa.String(length=200), nullable=True))
    conn = op.get_bind()
    table = sa.table('limited_partners', sa.column('id', sa.Integer()),
                     sa.column('commitment_amount', sa.Float()),
                     sa.column('commitment_exact', fondo.fund.money.ExactDecimal(24, 4)))
    for row_id, amount in conn.execute(sa.select(table.c.id, table.c.commitment_amount)).all():
        conn.execute(table.update().where(table.c.id == row_id)
                     .values(commitment_exact=Decimal(repr(float(amount)))))
    with op.batch_alter_table('limited_partners', schema=None) as batch_op:
        batch_op.drop_column('commitment_amount')
        # the type as the dialect stores it (alembic reads a plain type here)
        stored = sa.String(26) if conn.dialect.name == 'sqlite' else sa.Numeric(24, 4)
        batch_op.alter_column('commitment_exact', new_column_name='commitment_amount',
                              existing_type=stored, nullable=False)

    op.create_table('fund_ledger_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fund_id', sa.Integer(), nullable=False),
    sa.Column('limited_partner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('capital_call', 'management_fee', 'distribution',
                              name='ledger_entry_kind', **_ENUM), nullable=False),
    sa.Column('amount', fondo.fund.money.ExactDecimal(24, 4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('fx_rate', fondo.fund.money.ExactDecimal(24, 10), nullable=False),
    sa.Column('fx_rate_date', sa.Date(), nullable=False),
    sa.Column('fx_source', sa.String(length=200), nullable=True),
    sa.Column('amount_fund_currency', fondo.fund.money.ExactDecimal(24, 4), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_fund_ledger_entries_created_by_id_users')),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], name=op.f('fk_fund_ledger_entries_fund_id_funds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['limited_partner_id'], ['limited_partners.id'], name=op.f('fk_fund_ledger_entries_limited_partner_id_limited_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_ledger_entries'))
    )
    with op.batch_alter_table('fund_ledger_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fund_ledger_entries_fund_id'), ['fund_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fund_ledger_entries_limited_partner_id'), ['limited_partner_id'], unique=False)

    op.create_table('fund_allocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fund_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('tranche_kind', sa.Enum('equity', 'debt', name='tranche_kind', **_ENUM), nullable=False),
    sa.Column('tranche', sa.String(length=100), nullable=True),
    sa.Column('holder_kind', sa.Enum('fund', 'co_investor', name='holder_kind', **_ENUM), nullable=False),
    sa.Column('co_investor_name', sa.String(length=200), nullable=True),
    sa.Column('limited_partner_id', sa.Integer(), nullable=True),
    sa.Column('amount', fondo.fund.money.ExactDecimal(24, 4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('fx_rate', fondo.fund.money.ExactDecimal(24, 10), nullable=False),
    sa.Column('fx_rate_date', sa.Date(), nullable=False),
    sa.Column('fx_source', sa.String(length=200), nullable=True),
    sa.Column('amount_fund_currency', fondo.fund.money.ExactDecimal(24, 4), nullable=False),
    sa.Column('start_year', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_fund_allocations_created_by_id_users')),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], name=op.f('fk_fund_allocations_fund_id_funds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['limited_partner_id'], ['limited_partners.id'], name=op.f('fk_fund_allocations_limited_partner_id_limited_partners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_fund_allocations_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_allocations'))
    )
    with op.batch_alter_table('fund_allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fund_allocations_fund_id'), ['fund_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fund_allocations_limited_partner_id'), ['limited_partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fund_allocations_project_id'), ['project_id'], unique=False)

    op.create_table('fund_concentration_limits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fund_id', sa.Integer(), nullable=False),
    sa.Column('dimension', sa.Enum('state', 'corridor', 'technology', 'project', name='limit_dimension', **_ENUM), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=True),
    sa.Column('max_fraction', sa.Float(), nullable=False),
    sa.Column('warn_at', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], name=op.f('fk_fund_concentration_limits_fund_id_funds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_concentration_limits')),
    sa.UniqueConstraint('fund_id', 'dimension', 'key', name=op.f('uq_fund_concentration_limits_fund_id'))
    )
    with op.batch_alter_table('fund_concentration_limits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fund_concentration_limits_fund_id'), ['fund_id'], unique=False)


def downgrade() -> None:
    op.drop_table('fund_concentration_limits')
    op.drop_table('fund_allocations')
    op.drop_table('fund_ledger_entries')
    with op.batch_alter_table('limited_partners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('commitment_float', sa.Float(), nullable=True))
    conn = op.get_bind()
    table = sa.table('limited_partners', sa.column('id', sa.Integer()),
                     sa.column('commitment_amount', fondo.fund.money.ExactDecimal(24, 4)),
                     sa.column('commitment_float', sa.Float()))
    for row_id, amount in conn.execute(sa.select(table.c.id, table.c.commitment_amount)).all():
        conn.execute(table.update().where(table.c.id == row_id)
                     .values(commitment_float=float(amount)))
    with op.batch_alter_table('limited_partners', schema=None) as batch_op:
        batch_op.drop_column('fx_source')
        batch_op.drop_column('fx_rate_date')
        batch_op.drop_column('fx_rate')
        batch_op.drop_column('commitment_amount')
        batch_op.alter_column('commitment_float', new_column_name='commitment_amount',
                              existing_type=sa.Float(), nullable=False)
    with op.batch_alter_table('funds', schema=None) as batch_op:
        for name in ('management_fee_years', 'discount_rate', 'management_fee_rate',
                     'catch_up_rate', 'carried_interest_rate', 'preferred_return_rate',
                     'vintage_year'):
            batch_op.drop_column(name)
