"""`manage.py earn_points`: stored transactions earn in batches, once, however often it runs."""

from datetime import date

import pytest
from django.core.management import CommandError, call_command

from tests.factories import CustomerFactory
from tests.loyalty.points.earning_helpers import at, balance, bank, base, earned, purchase

pytestmark = pytest.mark.django_db


def test_stored_transactions_earn_once_in_batches(capsys):
    program = bank()
    base(program, "1")
    customer = CustomerFactory()
    old = purchase(customer, "50.00", when=at(date(2026, 1, 5)), earn=False)
    made = [purchase(customer, f"{100 + n}.00", earn=False) for n in range(3)]

    call_command("earn_points", "--since", "2026-03-01", "--batch", "2")
    call_command("earn_points", "--since", "2026-03-01", "--batch", "2")

    assert [earned(transaction, program) for transaction in made] == [100, 101, 102]
    assert earned(old, program) == 0  # before --since
    assert balance(customer, program) == 303
    first_run, second_run = capsys.readouterr().out.split()
    assert (first_run, second_run) == ("entries_created=3", "entries_created=0")


def test_a_batch_below_one_is_refused():
    with pytest.raises(CommandError):
        call_command("earn_points", "--batch", "0")
