"""The calendar set-up pages: a manager adds and edits a business calendar (week grid, zone,
holidays and their import); agents read, customers and other tenants see nothing."""

from datetime import date

from django.test import Client

from sustain.accounts import actions as accounts
from sustain.accounts.models import Role
from sustain.core.models import Event
from sustain.sla.models import Calendar, Holiday, Policy, RecomputeRun
from tests.base import PASSWORD, SustainTestCase


def grid(**days):
    """POST data for the week grid: grid(mon=[("09:00", "12:00"), ("13:00", "17:00")])."""
    data = {}
    for day, pairs in days.items():
        data[f"{day}_start"] = [s for s, _ in pairs]
        data[f"{day}_end"] = [e for _, e in pairs]
    return data


class ShortFailures:
    """assertContains prints the whole page on failure; these print what was looked for."""

    def has(self, response, needle, status=200):
        self.assertEqual(response.status_code, status)
        self.assertTrue(needle in response.content.decode(), f"{needle!r} not in the page")


class CalendarPagesTests(ShortFailures, SustainTestCase):
    def setUp(self):
        self.manager = Client()
        self.manager.force_login(self.mia)

    def post_new(self, **fields):
        data = {"name": "Berlin office", "timezone": "Europe/Berlin", **fields}
        return self.manager.post("/sla/calendars/new", data)

    def test_a_manager_adds_a_calendar_with_two_intervals_on_monday(self):
        page = self.manager.get("/sla/calendars/new")
        self.assertContains(page, '<option value="Europe/Berlin">Europe/Berlin</option>')
        self.assertContains(page, 'name="mon_start" value="09:00"')  # office hours offered
        response = self.post_new(
            **grid(mon=[("08:00", "12:00"), ("13:00", "17:30")], tue=[("09:00", "17:00")])
        )
        calendar = Calendar.objects.get(name="Berlin office")
        self.assertRedirects(response, f"/sla/calendars/{calendar.pk}/edit")
        self.assertEqual(
            calendar.hours,
            {"mon": [["08:00", "12:00"], ["13:00", "17:30"]], "tue": [["09:00", "17:00"]]},
        )
        self.assertEqual(calendar.timezone, "Europe/Berlin")
        self.assertTrue(Event.objects.filter(verb="created", target_id=calendar.pk).exists())
        edit = self.manager.get(f"/sla/calendars/{calendar.pk}/edit")
        self.assertContains(edit, 'name="mon_start" value="13:00"')

    def test_a_24x7_calendar_needs_no_hours(self):
        self.post_new(name="Always", always="on", timezone="UTC")
        self.assertTrue(Calendar.objects.get(name="Always").always)

    def test_every_problem_is_shown_beside_its_field_and_what_was_typed_is_kept(self):
        response = self.post_new(
            name="",
            timezone="Mars/Olympus",
            **grid(mon=[("9am", "17:00")], tue=[("13:00", "12:00")], wed=[("09:00", "")]),
        )
        self.assertEqual(response.status_code, 422)
        self.assertFalse(Calendar.objects.exists())
        body = response.content.decode()
        self.assertIn('id="id_name_error"', body)
        self.assertIn('id="id_timezone_error"', body)
        self.assertIn("&#x27;9am&#x27; is not a time", body)  # Monday's row
        self.assertIn('name="mon_start" value="9am"', body)  # kept as typed
        self.assertIn("Give both a start and an end", body)  # Wednesday's row
        self.assertEqual(body.count('class="day has-error"'), 3)  # Tuesday's end before start

    def test_a_second_calendar_of_the_same_name_is_refused_on_the_name(self):
        Calendar.objects.create(name="Berlin office")
        response = self.post_new(**grid(mon=[("09:00", "17:00")]))
        self.has(response, 'id="id_name_error"', 422)
        self.has(response, "exists", 422)

    def test_a_customer_not_offered_is_refused(self):
        response = self.post_new(organization=str(self.provider.pk))
        self.has(response, 'id="id_organization_error"', 422)

    def test_editing_the_hours_recomputes_the_open_tickets(self):
        calendar = Calendar.objects.create(name="Office", hours={"mon": [["09:00", "17:00"]]})
        Policy.objects.create(name="Standard", calendar=calendar)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.manager.post(
                f"/sla/calendars/{calendar.pk}/edit",
                {"name": "Office", "timezone": "UTC", **grid(fri=[("10:00", "16:00")])},
            )
        self.assertEqual(response.status_code, 302)
        calendar.refresh_from_db()
        self.assertEqual(calendar.hours, {"fri": [["10:00", "16:00"]]})
        run = RecomputeRun.objects.get()
        self.assertEqual((run.reason, run.calendar_id), ("Calendar Office changed", calendar.pk))
        self.assertIsNotNone(run.finished_at)

    def test_holidays_are_added_refused_twice_and_removed(self):
        calendar = Calendar.objects.create(name="Office", hours={"mon": [["09:00", "17:00"]]})
        url = f"/sla/calendars/{calendar.pk}/holidays"
        self.manager.post(url, {"date": "2026-12-24", "name": "Christmas Eve"})
        self.assertEqual(Holiday.objects.get().name, "Christmas Eve")
        again = self.manager.post(url, {"date": "2026-12-24", "name": "again"})
        self.has(again, 'id="id_date_error"', 422)
        self.has(again, 'value="again"', 422)
        bad = self.manager.post(url, {"date": "24.12.", "name": ""})
        self.has(bad, 'id="id_date_error"', 422)
        self.manager.post(f"/sla/calendars/{calendar.pk}/holidays/2026-12-24/remove")
        self.assertFalse(Holiday.objects.exists())

    def test_public_holidays_are_imported_by_country_region_and_years(self):
        calendar = Calendar.objects.create(name="Munich", timezone="Europe/Berlin")
        regions = self.manager.get("/sla/holidays/regions", {"country": "DE"})
        self.assertContains(regions, '<option value="BY">Bayern (BY)</option>', html=True)
        url = f"/sla/calendars/{calendar.pk}/holidays/import"
        response = self.manager.post(
            url, {"country": "DE", "subdivision": "BY", "year": "2026", "until": "2027"}
        )
        self.assertEqual(response.status_code, 302)
        days = set(Holiday.objects.values_list("date", flat=True))
        self.assertIn(date(2026, 1, 6), days)  # Epiphany: Bavaria's, not Berlin's
        self.assertIn(date(2027, 12, 25), days)
        refused = self.manager.post(url, {"country": "DE", "year": "2027", "until": "2026"})
        self.has(refused, 'id="id_until_error"', 422)
        unknown = self.manager.post(url, {"country": "XX", "year": "2026"})
        self.has(unknown, 'id="id_country_error"', 422)
        region = self.manager.post(url, {"country": "DE", "subdivision": "ZZ", "year": "2026"})
        self.has(region, "errorlist", 422)

    def test_a_calendar_in_use_is_not_deleted_an_unused_one_is(self):
        used = Calendar.objects.create(name="Used")
        Policy.objects.create(name="Standard", calendar=used)
        unused = Calendar.objects.create(name="Unused")
        response = self.manager.post(f"/sla/calendars/{used.pk}/delete", follow=True)
        self.assertContains(response, "move them to another calendar first")
        self.manager.post(f"/sla/calendars/{unused.pk}/delete")
        self.assertEqual(list(Calendar.objects.values_list("name", flat=True)), ["Used"])


class CalendarAccessTests(SustainTestCase):
    def setUp(self):
        self.calendar = Calendar.objects.create(
            name="Globex hours", organization=self.globex, always=True
        )

    def test_an_agent_reads_but_may_not_change(self):
        agent = Client()
        agent.force_login(self.alice)
        listing = agent.get("/sla/calendars")
        self.assertContains(listing, "Globex hours")
        self.assertNotContains(listing, "New calendar")
        self.assertEqual(agent.get("/sla/calendars/new").status_code, 403)
        edit = f"/sla/calendars/{self.calendar.pk}/edit"
        self.assertEqual(agent.post(edit, {"name": "Mine", "timezone": "UTC"}).status_code, 403)
        self.assertEqual(agent.post(f"/sla/calendars/{self.calendar.pk}/delete").status_code, 403)
        self.assertEqual(Calendar.objects.get().name, "Globex hours")

    def test_a_customer_is_refused(self):
        customer = Client()
        customer.force_login(self.carol)
        self.assertEqual(customer.get("/sla/calendars").status_code, 403)
        self.assertEqual(customer.get("/sla/calendars/new").status_code, 403)
        self.assertEqual(customer.get("/sla/recompute").status_code, 403)

    def test_an_agent_of_another_tenant_does_not_see_the_calendar(self):
        scoped = accounts.create_user(
            self.root,
            email="sam@northwind.test",
            name="Sam Scoped",
            organization=self.provider,
            role=Role.AGENT,
            password=PASSWORD,
            serves_all_organizations=False,
            served_organizations=[self.acme],
        )
        client = Client()
        client.force_login(scoped)
        self.assertNotContains(client.get("/sla/calendars"), "Globex hours")
        Calendar.objects.filter(pk=self.calendar.pk).update(always=False)  # now skipped: unnamed
        self.assertNotContains(client.get("/sla/calendars"), "Globex hours")
        self.assertEqual(client.get(f"/sla/calendars/{self.calendar.pk}").status_code, 404)


class ManagersThroughTheApiTests(SustainTestCase):
    def test_a_manager_sets_up_through_the_api_too_an_agent_does_not(self):
        created = self.api(self.mia).post("/api/v1/sla/calendars", {"name": "24x7", "always": True})
        self.assertEqual(created.status_code, 201, created.content)
        refused = self.api(self.alice).post("/api/v1/sla/calendars", {"name": "Mine"})
        self.assertEqual(refused.status_code, 403)
