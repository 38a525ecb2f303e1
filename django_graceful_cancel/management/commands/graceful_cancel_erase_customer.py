from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_graceful_cancel import services

from ._customer import find_customer


class Command(BaseCommand):
    help = (
        "Erase a customer's personal data from their cancellation cases, keeping the anonymous "
        "figures (recorded in the privacy log). The user account itself is not deleted."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("customer", help="The customer's id, username or email.")
        parser.add_argument("--yes", action="store_true", help="Do it without asking.")

    def handle(self, *args: Any, customer: str, yes: bool = False, **options: Any) -> None:
        user = find_customer(customer)
        question = f"Erase the personal data of customer {user.pk} from their cases? [y/N] "
        if not yes and input(question).strip().lower() not in ("y", "yes"):
            raise CommandError("Nothing erased (confirm with --yes).")
        request = services.erase_customer(user, actor="command:erase_customer")
        self.stdout.write(f"Erased customer {user.pk} from {request.cases} case(s).")
        evidence = request.detail.get("evidence_records_erased", 0)
        self.stdout.write(f"Erased {evidence} retained evidence record(s).")
