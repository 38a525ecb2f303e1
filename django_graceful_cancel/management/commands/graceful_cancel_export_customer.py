from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from django_graceful_cancel import services

from ._customer import find_customer


class Command(BaseCommand):
    help = "Export everything the app holds about a customer as JSON (recorded in the privacy log)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("customer", help="The customer's id, username or email.")
        parser.add_argument("--output", "-o", help="Write to this file instead of stdout.")

    def handle(self, *args: Any, customer: str, output: str | None = None, **options: Any) -> None:
        user = find_customer(customer)
        data = services.export_customer_data(user, actor="command:export_customer")
        text = json.dumps(data, indent=2, ensure_ascii=False)
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            self.stderr.write(f"Exported {len(data['cases'])} case(s) to {output}.")
        else:
            self.stdout.write(text)
