"""Admin for contributions, mini crowd fundings and their supports, by concern.

Money records are read-only here: amounts, statuses and collected totals change only through
`crowdfunding.services` (the refund action calls `contribution_refund`). The package also
re-registers `LiveStream` with its money inlines and `CreditLedgerEntry` with the record of each
row, since the livestreams and users apps do not know about crowdfunding.

`actions` (what the money actions share: confirmation page, one service call per row, report),
`streams` (the stream's admin with its money and cancel action, mini crowd fundings), `records`
(contributions, supports, payouts, idempotency records), `ledger` (the ledger with the record
each row belongs to) and `overview` (the operator's funds overview). Importing the package
registers them all.
"""

from crowdfunding.admin import actions, ledger, overview, records, streams
from crowdfunding.admin.streams import INLINE_LIMIT

__all__ = ["INLINE_LIMIT", "actions", "ledger", "overview", "records", "streams"]
