"""The on-call rotation forms, overrides, the shift timeline and open pages at /sla/oncall."""

from datetime import UTC, date, datetime, time, timedelta

import time_machine
from django.test import Client

from sustain.accounts import actions as accounts
from sustain.accounts.models import Role
from sustain.sla import actions, escalation, oncall
from sustain.sla.models import OnCallOverride, OnCallSchedule
from tests.base import PASSWORD, SustainTestCase

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # a Monday


def rotation_data(test, **extra):
    data = {
        "name": "Desk nights",
        "slug": "",
        "team": str(test.service_desk.pk),
        "timezone": "Europe/Berlin",
        "shift_hours": "24",
        "handover": "09:00",
        "rotation_start": "2026-12-07",
        "ack_minutes": "10",
        "participant": [str(test.alice.pk), str(test.bob.pk), str(test.mia.pk)],
    }
    data.update(extra)
    return data


@time_machine.travel(NOW, tick=False)
class RotationFormTests(SustainTestCase):
    def setUp(self):
        self.manager = Client()
        self.manager.force_login(self.mia)
        self.scoped = accounts.create_user(
            self.root,
            email="sam@northwind.test",
            name="Sam Scoped",
            organization=self.provider,
            role=Role.AGENT,
            password=PASSWORD,
            serves_all_organizations=False,
        )

    def test_a_manager_sets_up_a_rotation_with_participants_in_order(self):
        response = self.manager.post("/sla/oncall/new", rotation_data(self))
        schedule = OnCallSchedule.objects.get(slug="desk-nights")
        self.assertRedirects(response, f"/sla/oncall/{schedule.pk}")
        self.assertEqual(
            [p.user for p in schedule.participants.order_by("position")],
            [self.alice, self.bob, self.mia],
        )
        self.assertEqual(
            (schedule.timezone, schedule.shift_hours, schedule.handover, schedule.ack_minutes),
            ("Europe/Berlin", 24, time(9, 0), 10),
        )

    def test_participant_buttons_reorder_and_keep_what_was_typed(self):
        response = self.manager.post(
            "/sla/oncall/new", rotation_data(self, participant_up="2", name="Typed")
        )
        self.assertEqual(response.status_code, 200)
        self.assertFalse(OnCallSchedule.objects.exists())
        self.assertEqual(
            response.context["participants"].values,
            [str(self.alice.pk), str(self.mia.pk), str(self.bob.pk)],
        )
        self.assertContains(response, 'value="Typed"')
        added = self.manager.post("/sla/oncall/new", rotation_data(self, add_participant="1"))
        self.assertEqual(len(added.context["participants"].values), 4)
        removed = self.manager.post("/sla/oncall/new", rotation_data(self, remove_participant="0"))
        self.assertEqual(
            removed.context["participants"].values, [str(self.bob.pk), str(self.mia.pk)]
        )

    def test_refusals_name_each_field_at_once(self):
        response = self.manager.post(
            "/sla/oncall/new",
            rotation_data(self, name="", timezone="Mars/Olympus", shift_hours="0", handover="late"),
        )
        self.assertEqual(response.status_code, 422)
        errors = response.context["form"].errors
        for field in ("name", "timezone", "shift_hours", "handover"):
            self.assertIn(field, errors)
        self.assertContains(response, 'value="late"', status_code=422)
        self.assertFalse(OnCallSchedule.objects.exists())

    def test_a_participant_not_allowed_is_refused_beside_their_row(self):
        response = self.manager.post(
            "/sla/oncall/new",
            rotation_data(self, participant=[str(self.alice.pk), str(self.scoped.pk)]),
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.context["participants"].errors[0], "")
        self.assertIn("Sam Scoped may not join", response.context["participants"].errors[1])
        self.assertFalse(OnCallSchedule.objects.exists())
        # Offered only to the team's own rota: once a member, Sam may join.
        self.service_desk.members.add(self.scoped)
        ok = self.manager.post(
            "/sla/oncall/new",
            rotation_data(self, participant=[str(self.alice.pk), str(self.scoped.pk)]),
        )
        self.assertEqual(ok.status_code, 302)

    def test_a_customer_as_participant_is_refused(self):
        response = self.manager.post(
            "/sla/oncall/new", rotation_data(self, participant=[str(self.carol.pk)])
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("may not join", response.context["participants"].errors[0])

    def test_no_participant_is_refused(self):
        response = self.manager.post("/sla/oncall/new", rotation_data(self, participant=[]))
        self.assertEqual(response.status_code, 422)
        self.assertContains(response, "at least one participant", status_code=422)

    def test_a_duplicate_short_name_is_refused_on_its_field(self):
        self.manager.post("/sla/oncall/new", rotation_data(self))
        response = self.manager.post("/sla/oncall/new", rotation_data(self))
        self.assertEqual(response.status_code, 422)
        self.assertIn("slug", response.context["form"].errors)

    def test_edit_changes_zone_hand_over_and_order_then_delete(self):
        self.manager.post("/sla/oncall/new", rotation_data(self))
        schedule = OnCallSchedule.objects.get()
        form = self.manager.get(f"/sla/oncall/{schedule.pk}/edit")
        self.assertContains(form, 'value="Desk nights"')
        response = self.manager.post(
            f"/sla/oncall/{schedule.pk}/edit",
            rotation_data(
                self,
                timezone="America/New_York",
                handover="18:30",
                participant=[str(self.bob.pk), str(self.alice.pk)],
            ),
        )
        self.assertRedirects(response, f"/sla/oncall/{schedule.pk}")
        schedule.refresh_from_db()
        self.assertEqual((schedule.timezone, schedule.handover), ("America/New_York", time(18, 30)))
        self.assertEqual(
            [p.user for p in schedule.participants.order_by("position")], [self.bob, self.alice]
        )
        page = self.manager.get(f"/sla/oncall/{schedule.pk}")
        self.assertContains(page, 'hx-confirm="Delete the rotation')
        self.manager.post(f"/sla/oncall/{schedule.pk}/delete")
        self.assertFalse(OnCallSchedule.objects.exists())


@time_machine.travel(NOW, tick=False)
class RotationPageTests(SustainTestCase):
    def setUp(self):
        self.schedule = actions.create_schedule(
            self.root,
            team=self.service_desk,
            name="Desk",
            slug="desk",
            participants=[self.alice, self.bob, self.mia],
            rotation_start=date(2026, 12, 7),
            timezone_name="UTC",
            shift_hours=24,
            handover="09:00",
        )
        self.manager = Client()
        self.manager.force_login(self.mia)

    def test_the_timeline_shows_four_weeks_of_shifts_with_the_override(self):
        self.manager.post(
            f"/sla/oncall/{self.schedule.pk}/overrides",
            {"user": str(self.bob.pk), "start": "2026-12-08T09:00", "end": "2026-12-09T09:00"},
        )
        response = self.manager.get(f"/sla/oncall/{self.schedule.pk}")
        weeks = response.context["weeks"]
        self.assertEqual(len(weeks), 4)
        for week in weeks:
            self.assertEqual(sum(cell.span for cell in week["cells"]), week["hours"])
        shifts = response.context["shifts"]
        # Mon 00:00–09:00 is the shift before the rotation started: nobody.
        self.assertEqual(shifts[0].start, datetime(2026, 12, 7, 9, tzinfo=UTC))
        self.assertEqual(shifts[0].user, self.alice)
        self.assertEqual((shifts[1].user, shifts[1].source), (self.bob, "override"))
        self.assertEqual(shifts[2].user, self.mia)
        self.assertContains(response, 'class="ov"')
        self.assertNotContains(response, "style=")

    def test_the_timeline_is_in_the_viewers_zone(self):
        self.mia.time_zone = "Asia/Tokyo"
        self.mia.save()
        response = self.manager.get(f"/sla/oncall/{self.schedule.pk}")
        self.assertContains(response, "times in Asia/Tokyo")
        # 09:00 UTC hand-over is 18:00 in Tokyo.
        self.assertContains(response, "Mon 7 Dec 18:00")

    def test_shifts_match_who_is_on_call(self):
        start = NOW - timedelta(days=2)
        for shift in oncall.shifts(self.schedule, start, start + timedelta(days=10)):
            middle = shift.start + (shift.end - shift.start) / 2
            self.assertEqual(oncall.on_call(self.schedule, middle)[0], shift.user)

    def test_override_refusals_name_the_field(self):
        response = self.manager.post(
            f"/sla/oncall/{self.schedule.pk}/overrides",
            {"user": str(self.carol.pk), "start": "2026-12-09T09:00", "end": "2026-12-08T09:00"},
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("user", response.context["override_form"].errors)
        self.assertContains(response, 'value="2026-12-09T09:00"', status_code=422)
        backwards = self.manager.post(
            f"/sla/oncall/{self.schedule.pk}/overrides",
            {"user": str(self.bob.pk), "start": "2026-12-09T09:00", "end": "2026-12-08T09:00"},
        )
        self.assertIn("end", backwards.context["override_form"].errors)
        missing = self.manager.post(f"/sla/oncall/{self.schedule.pk}/overrides", {"user": ""})
        self.assertEqual(set(missing.context["override_form"].errors), {"user", "start", "end"})
        self.assertFalse(OnCallOverride.objects.exists())

    def test_override_removed_with_a_confirmation(self):
        actions.add_override(
            self.mia,
            self.schedule,
            user=self.bob,
            start=NOW + timedelta(days=1),
            end=NOW + timedelta(days=2),
        )
        override = OnCallOverride.objects.get()
        page = self.manager.get(f"/sla/oncall/{self.schedule.pk}")
        self.assertContains(page, 'hx-confirm="Remove Bob Teammate')
        self.manager.post(f"/sla/oncall/{self.schedule.pk}/overrides/{override.pk}/delete")
        self.assertFalse(OnCallOverride.objects.exists())

    def test_a_plain_agent_reads_but_may_not_change_the_rotation(self):
        outsider = accounts.create_user(
            self.root,
            email="olga@northwind.test",
            name="Olga Other",
            organization=self.provider,
            role=Role.AGENT,
            password=PASSWORD,
        )
        agent = Client()
        agent.force_login(outsider)
        self.assertContains(agent.get(f"/sla/oncall/{self.schedule.pk}"), "Desk")
        self.assertEqual(agent.get("/sla/oncall/new").status_code, 403)
        self.assertEqual(agent.get(f"/sla/oncall/{self.schedule.pk}/edit").status_code, 403)
        self.assertEqual(
            agent.post(f"/sla/oncall/{self.schedule.pk}/edit", rotation_data(self)).status_code,
            403,
        )
        self.assertEqual(agent.post(f"/sla/oncall/{self.schedule.pk}/delete").status_code, 403)
        refused = agent.post(
            f"/sla/oncall/{self.schedule.pk}/overrides",
            {"user": str(self.bob.pk), "start": "2026-12-08T09:00", "end": "2026-12-09T09:00"},
        )
        # Bob is not offered to her (she may name only herself, and she is no participant).
        self.assertIn(refused.status_code, (403, 422))
        self.assertFalse(self.schedule.overrides.exists())
        self.assertTrue(OnCallSchedule.objects.filter(pk=self.schedule.pk).exists())

    def test_the_team_lead_may_change_their_teams_rotation(self):
        lead = Client()
        lead.force_login(self.alice)
        response = lead.post(
            f"/sla/oncall/{self.schedule.pk}/edit",
            rotation_data(self, name="Desk", participant=[str(self.alice.pk), str(self.bob.pk)]),
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(self.schedule.participants.count(), 2)

    def test_a_customer_is_refused_everywhere(self):
        customer = Client()
        customer.force_login(self.carol)
        for url in ("/sla/oncall", "/sla/oncall/new", f"/sla/oncall/{self.schedule.pk}"):
            self.assertEqual(customer.get(url).status_code, 403)
        self.assertEqual(customer.post("/sla/oncall/new", rotation_data(self)).status_code, 403)

    def test_open_pages_are_acknowledged_in_place(self):
        ticket = self.open_ticket()
        page = escalation.page(self.schedule, ticket, "Checkout down", NOW)
        listing = self.manager.get("/sla/oncall")  # managers see everyone's pages
        self.assertContains(listing, "Checkout down")
        self.assertContains(listing, ticket.key)
        answer = self.manager.post(f"/sla/pages/{page.pk}/ack", headers={"HX-Request": "true"})
        self.assertEqual(answer.status_code, 200)
        self.assertContains(answer, "No open pages")
        page.refresh_from_db()
        self.assertIsNotNone(page.acknowledged_at)
        again = self.manager.post(f"/sla/pages/{page.pk}/ack", headers={"HX-Request": "true"})
        self.assertContains(again, "already acknowledged", status_code=409)

    def test_an_agent_sees_only_their_own_pages_and_may_not_acknowledge_others(self):
        page = escalation.page(self.schedule, None, "Disk full", NOW)  # to Alice, on shift
        bob = Client()
        bob.force_login(self.bob)
        self.assertNotContains(bob.get("/sla/oncall"), "Disk full")
        bob.post(f"/sla/pages/{page.pk}/ack")
        page.refresh_from_db()
        self.assertIsNone(page.acknowledged_at)

    def test_a_page_about_a_ticket_the_viewer_may_not_see_is_not_listed(self):
        scoped = accounts.create_user(
            self.root,
            email="sam@northwind.test",
            name="Sam Scoped",
            organization=self.provider,
            role=Role.AGENT,
            password=PASSWORD,
            serves_all_organizations=False,
        )
        scoped.served_organizations.add(self.acme)
        self.service_desk.members.add(scoped)
        globex_ticket = self.open_ticket(self.dave, title="Globex is down")
        # Written before paging checked who may see the ticket: still never shown to Sam.
        page = escalation.page(self.schedule, globex_ticket, "Globex is down", NOW, user=scoped)
        client = Client()
        client.force_login(scoped)
        self.assertNotContains(client.get("/sla/oncall"), globex_ticket.key)
        self.assertEqual(client.post(f"/sla/pages/{page.pk}/ack").status_code, 404)
        self.assertContains(self.manager.get("/sla/oncall"), globex_ticket.key)

    def test_a_team_lead_sets_up_only_their_own_teams_rotation(self):
        platform = accounts.create_team(self.root, name="Platform", lead=self.mia)
        lead = Client()
        lead.force_login(self.alice)
        form = lead.get("/sla/oncall/new")
        self.assertEqual(list(form.context["form"].fields["team"].queryset), [self.service_desk])
        refused = lead.post(
            "/sla/oncall/new",
            rotation_data(
                self, slug="platform", team=str(platform.pk), participant=[str(self.alice.pk)]
            ),
        )
        self.assertEqual(refused.status_code, 422)
        self.assertIn("team", refused.context["form"].errors)
        self.assertFalse(OnCallSchedule.objects.filter(slug="platform").exists())

    def test_a_participant_takes_a_shift_for_themselves_only(self):
        bob = Client()
        bob.force_login(self.bob)
        page = bob.get(f"/sla/oncall/{self.schedule.pk}")
        self.assertEqual(list(page.context["override_form"].fields["user"].queryset), [self.bob])
        other = bob.post(
            f"/sla/oncall/{self.schedule.pk}/overrides",
            {"user": str(self.mia.pk), "start": "2026-12-08T09:00", "end": "2026-12-09T09:00"},
        )
        self.assertIn("user", other.context["override_form"].errors)
        mine = bob.post(
            f"/sla/oncall/{self.schedule.pk}/overrides",
            {"user": str(self.bob.pk), "start": "2026-12-08T09:00", "end": "2026-12-09T09:00"},
        )
        self.assertEqual(mine.status_code, 302)
        self.assertEqual(OnCallOverride.objects.get().user, self.bob)
