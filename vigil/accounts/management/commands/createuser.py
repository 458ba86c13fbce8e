import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from vigil.accounts.actions import do_create_user
from vigil.accounts.models import User


class Command(BaseCommand):
    help = "Create a user. Without --password, a random one is generated and printed."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", default="")
        parser.add_argument("--password")
        parser.add_argument("--admin", action="store_true", help="site admin: sees every team, uses the Django admin")

    def handle(self, email, name, password, admin, **options):
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"not a valid email address: {email!r}")
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError(f"a user with the email {email} exists")
        generated = password is None
        if generated:
            password = secrets.token_urlsafe(12)
        else:
            try:
                validate_password(password)
            except ValidationError as e:
                raise CommandError("password: " + " ".join(e.messages))
        user = do_create_user(email, actor=None, name=name, password=password, is_admin=admin)
        self.stdout.write(f"Created {'site admin' if admin else 'user'} {user.email} (id {user.pk}).")
        if generated:
            self.stdout.write(f"Password: {password}")
