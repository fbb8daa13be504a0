"""Who work can be given to: staff who can log in, never the system actor nor a customer."""

from sustain.accounts.actions import system_actor
from sustain.accounts.models import User
from tests.base import SustainTestCase


class AssignableTests(SustainTestCase):
    def test_staff_only_without_the_system_actor(self) -> None:
        system_actor()
        self.bob.is_active = False
        self.bob.save()
        emails = set(User.objects.assignable().values_list("email", flat=True))
        self.assertEqual(
            emails, {"root@northwind.test", "alice@northwind.test", "mia@northwind.test"}
        )

    def test_ticket_page_does_not_offer_the_system_actor(self) -> None:
        system_actor()
        ticket = self.open_ticket()
        self.client.force_login(self.alice)
        page = self.client.get(f"/desk/t/{ticket.key}")
        self.assertContains(page, "Alice Agent")
        self.assertNotContains(page, "system@sustain.invalid")
        self.assertNotContains(page, ">Sustain</option>")
