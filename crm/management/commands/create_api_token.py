"""Print a new API token for a user, for a system integration (core banking, shop, POS...)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from knox.models import AuthToken


class Command(BaseCommand):
    help = (
        "Create an API token for a user and print it (only its hash is stored: it cannot be "
        "shown again). Send it as `Authorization: Token <key>`."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--days", type=int, default=None, help="Expire the token after this many days."
        )

    def handle(self, *args, username: str, days: int | None, **options) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f"There is no user {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive.")
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        # Without --days the token lives as long as REST_KNOX["TOKEN_TTL"] says.
        expiry = {"expiry": timedelta(days=days)} if days else {}
        token, key = AuthToken.objects.create(user=user, **expiry)
        self.stderr.write(f"API token for {username!r}, expires: {token.expiry or 'never'}")
        self.stdout.write(key)
