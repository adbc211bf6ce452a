"""cancelled orders: coupon redemptions can be released

A cancelled order gives its coupon back: ``coupon_redemptions`` gets
``released_at``, and "one redemption per grant" becomes "one unreleased
redemption per grant" (a partial unique index), so a released grant can be
redeemed again while its old redemption stays as history. The new
recommendation event types (``purchase_cancelled``, ``redemption_cancelled``)
need no change: the event column is a VARCHAR(20) without a CHECK.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 12:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLE = 'coupon_redemptions'
INDEX = 'uq_coupon_redemptions_live_grant'
LIVE = sa.text('released_at IS NULL')
# SQLite reflects 0001's unnamed UNIQUE(grant_id) without a name; batch mode names it by this convention.
SQLITE_NAMES = {'uq': 'uq_%(table_name)s_%(column_0_name)s'}


def _grant_unique_name() -> str:
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        return f'uq_{TABLE}_grant_id'
    for constraint in sa.inspect(bind).get_unique_constraints(TABLE):
        if constraint['column_names'] == ['grant_id']:
            return constraint['name']
    raise RuntimeError(f'{TABLE} has no UNIQUE (grant_id) constraint to replace')


def upgrade() -> None:
    name = _grant_unique_name()
    with op.batch_alter_table(TABLE, schema=None, naming_convention=SQLITE_NAMES) as batch_op:
        batch_op.add_column(sa.Column('released_at', sa.DateTime(), nullable=True))
        batch_op.drop_constraint(name, type_='unique')
    op.create_index(INDEX, TABLE, ['grant_id'], unique=True, sqlite_where=LIVE, postgresql_where=LIVE)


def downgrade() -> None:
    # Released redemptions would break UNIQUE (grant_id); they only record cancelled orders' coupons.
    op.execute(sa.text(f'DELETE FROM {TABLE} WHERE released_at IS NOT NULL'))
    op.drop_index(INDEX, table_name=TABLE)
    with op.batch_alter_table(TABLE, schema=None, naming_convention=SQLITE_NAMES) as batch_op:
        batch_op.drop_column('released_at')
        batch_op.create_unique_constraint(f'uq_{TABLE}_grant_id', ['grant_id'])
