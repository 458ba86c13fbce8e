from django.core.management.base import BaseCommand, CommandError

from vigil.accounts.actions import do_create_api_token, do_revoke_api_token
from vigil.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = "Manage personal API tokens: create (printed once), list, revoke."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="print a new token on the last line")
        create.add_argument("--user", required=True, help="the owner's email")
        create.add_argument("--name", default="cli")
        listing = sub.add_parser("list")
        listing.add_argument("--user", required=True)
        revoke = sub.add_parser("revoke")
        revoke.add_argument("id", type=int)

    def handle(self, action, **options):
        if action == "revoke":
            token = ApiToken.objects.filter(pk=options["id"]).first()
            if token is None:
                raise CommandError(f"no token with id {options['id']}")
            do_revoke_api_token(token, actor=None)
            self.stdout.write(f"Revoked token {token.pk} ({token.hint}…) of {token.user.email}.")
            return
        user = User.objects.filter(email__iexact=options["user"]).first()
        if user is None:
            raise CommandError(f"no user with the email {options['user']}")
        if action == "create":
            token, raw = do_create_api_token(user, options["name"], actor=None)
            self.stderr.write(f"Token {token.pk} for {user.email}; it is shown only now:")
            self.stdout.write(raw)
        else:
            for token in user.api_tokens.all():
                state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
                used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
                self.stdout.write(f"{token.pk}\t{token.hint}…\t{token.name}\t{state}\tlast used {used}")
