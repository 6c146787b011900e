"""One module per kind of file: how its rows are checked against the database and written."""

from crm.imports.chunks import ImportContext, KindImport
from crm.imports.kinds.balances import BalanceImport
from crm.imports.kinds.customers import CustomerImport
from crm.imports.kinds.holdings import HoldingImport
from crm.imports.kinds.transactions import TransactionImport
from crm.models import ImportJob

KINDS: dict[str, type[KindImport]] = {
    ImportJob.Kind.CUSTOMERS: CustomerImport,
    ImportJob.Kind.TRANSACTIONS: TransactionImport,
    ImportJob.Kind.BALANCES: BalanceImport,
    ImportJob.Kind.HOLDINGS: HoldingImport,
}


def kind_import(context: ImportContext) -> KindImport:
    return KINDS[context.kind](context)
