"""Prove that balances, lots and allocations equal the points entries (loyalty.ledger_check).

Prints every check with its count and the ids of a few broken rows; exits 1 when anything is
broken, so that a cron job or a deploy step can alert on it.
"""

from django.core.management.base import BaseCommand, CommandError

from loyalty.ledger_check import ledger_check


class Command(BaseCommand):
    help = "Check that the points ledger's balances, lots and allocations equal its entries."

    def handle(self, *args, **options) -> None:
        broken = 0
        for result in ledger_check():
            if result.is_broken:
                broken += 1
                ids = ", ".join(str(example) for example in result.examples)
                self.stdout.write(
                    f"BROKEN {result.check.name}: {result.count} ({result.check.description}); "
                    f"e.g. ids {ids}"
                )
            else:
                self.stdout.write(f"ok     {result.check.name}: 0")
        if broken:
            raise CommandError(f"{broken} ledger check(s) failed.")
        self.stdout.write(self.style.SUCCESS("The ledger is consistent."))
