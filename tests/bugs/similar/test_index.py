"""The side table of open rows' terms: kept by the actions, filled in bulk, read by suggest()."""

from sustain.bugs import actions as bugs
from sustain.bugs.models import Bug, BugWord, TicketWord
from sustain.bugs.similar import index
from sustain.bugs.similar.rank import suggest
from sustain.desk import actions as desk
from sustain.desk.models import Ticket
from tests.bugs.similar.helpers import SimilarTestCase


def terms(row):
    if isinstance(row, Bug):
        return set(BugWord.objects.filter(bug=row).values_list("term", flat=True))
    return set(TicketWord.objects.filter(ticket=row).values_list("term", flat=True))


class TermsTests(SimilarTestCase):
    def test_a_word_is_kept_under_what_it_is_a_form_of(self):
        found = index.terms_of("INC-7", "Exporting invoices", "")
        self.assertLessEqual({"inc", "exporting", "export", "invoices", "invoice"}, found)
        self.assertNotIn("7", found)  # too short to be looked up

    def test_every_form_of_a_term_is_kept_under_it(self):
        for form in index.word_forms("export"):
            self.assertIn("export", index.terms_of("", form, ""))

    def test_diacritics_fold_as_in_the_full_text_index(self):
        self.assertIn("credit", index.terms_of("", "Crédit refusé", ""))
        self.assertEqual(index.fold("Zürich"), "Zurich")

    def test_the_start_of_the_description_counts_not_the_rest(self):
        description = "printer " + "x" * index.DESCRIPTION_CHARS + " scanner"
        found = index.terms_of("", "Title", description)
        self.assertIn("printer", found)
        self.assertNotIn("scanner", found)


class MaintenanceTests(SimilarTestCase):
    def test_a_ticket_is_indexed_while_open_and_under_its_current_title(self):
        ticket = desk.open_ticket(self.carol, title="Scanner jams on duplex pages")
        self.assertIn("scanner", terms(ticket))
        desk.update_ticket(self.alice, ticket, title="Printer jams on duplex pages")
        self.assertIn("printer", terms(ticket))
        self.assertNotIn("scanner", terms(ticket))
        self.assertEqual(self.keys(suggest(self.alice, title="printer jams duplex")), [ticket.key])
        self.assertEqual(self.keys(suggest(self.alice, title="scanner")), [])

    def test_closing_removes_a_ticket_and_reopening_brings_it_back(self):
        ticket = desk.open_ticket(self.carol, title="Scanner jams on duplex pages")
        desk.transition(self.alice, ticket, "resolved")
        self.assertEqual(terms(ticket), set())
        self.assertEqual(self.keys(suggest(self.alice, title="Scanner jams on duplex")), [])
        desk.add_comment(self.carol, ticket, "Still jams.")  # the customer's answer reopens it
        ticket.refresh_from_db()
        self.assertEqual(ticket.status, "open")
        self.assertIn("scanner", terms(ticket))

    def test_a_move_between_open_statuses_writes_nothing(self):
        ticket = desk.open_ticket(self.carol, title="Scanner jams on duplex pages")
        with self.assertNumQueries(0):
            index.refresh(ticket, text_changed=False, was_open=True)

    def test_a_bug_is_indexed_while_open(self):
        bug = self.bug("Label printer skips every other label")
        self.assertIn("label", terms(bug))
        bugs.update_bug(self.alice, bug, title="Label printer prints blank labels")
        self.assertIn("blank", terms(bug))
        self.assertNotIn("skip", terms(bug))
        bugs.transition(self.alice, bug, "fixed")
        self.assertEqual(terms(bug), set())
        bugs.reopen(self.alice, bug)
        self.assertIn("blank", terms(bug))

    def test_fill_adds_the_open_rows_written_past_the_actions_once(self):
        open_row = Ticket.objects.create(
            key="INC-9001", title="Badge reader offline", organization=self.acme
        )
        closed = Ticket.objects.create(
            key="INC-9002", title="Badge reader offline", organization=self.acme, status="closed"
        )
        self.assertEqual(terms(open_row), set())
        index.fill(Ticket, open_row.pk, closed.pk)
        index.fill(Ticket, open_row.pk, closed.pk)  # again: nothing twice (a unique pair)
        self.assertIn("badge", terms(open_row))
        self.assertEqual(terms(closed), set())
        self.assertEqual(self.keys(suggest(self.alice, title="Badge reader offline")), ["INC-9001"])

    def test_an_admin_edit_keeps_the_terms_too(self):
        from django.contrib import admin

        ticket = desk.open_ticket(self.carol, title="Scanner jams on duplex pages")
        ticket.title = "Printer jams on duplex pages"
        admin.site._registry[Ticket].save_model(None, ticket, None, True)
        self.assertIn("printer", terms(ticket))
        ticket.status = "closed"
        admin.site._registry[Ticket].save_model(None, ticket, None, True)
        self.assertEqual(terms(ticket), set())
        bug = self.bug("Label printer skips every other label")
        bug.title = "Badge printer skips every other label"
        admin.site._registry[Bug].save_model(None, bug, None, True)
        self.assertIn("badge", terms(bug))
