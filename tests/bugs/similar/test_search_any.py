"""FullTextIndex.filter_any: rows holding any of several whole words, on both databases."""

from sustain.bugs.models import Bug
from sustain.desk import actions as desk
from sustain.desk.models import Ticket
from tests.bugs.similar.helpers import SimilarTestCase


class FilterAnyTests(SimilarTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.export = desk.open_ticket(cls.carol, title="CSV exports time out")
        cls.login = desk.open_ticket(cls.carol, title="Login fails in Zürich", description="SSO")
        cls.other = desk.open_ticket(cls.carol, title="Printer jams")

    def any_of(self, *terms: str) -> list[Ticket]:
        return sorted(
            Ticket.search_index.filter_any(Ticket.objects.all(), terms), key=lambda t: t.pk
        )

    def test_any_word_matches_whole_words_only(self):
        self.assertEqual(self.any_of("exports", "login"), [self.export, self.login])
        self.assertEqual(self.any_of("export"), [])  # not a prefix
        self.assertEqual(self.any_of("EXPORTS"), [self.export])
        self.assertEqual(self.any_of("sso"), [self.login])  # the description too
        self.assertEqual(self.any_of("printer jams"), [self.other])  # words of one term

    def test_nothing_to_look_for_finds_nothing(self):
        self.assertEqual(self.any_of(), [])
        self.assertEqual(self.any_of("", "  ", "!?", "_"), [])

    def test_odd_input_does_not_break_the_query(self):
        for term in ('"', "a OR b", "NEAR(x y)", "x:*", "a & b | !c", "'", "x" * 3000, "*"):
            self.assertIsInstance(self.any_of(term, "login"), list, term)
        self.assertEqual(self.any_of("a & b | !c", "jams"), [self.other])

    def test_bugs_have_the_same_index(self):
        bug = self.bug("Timeout in CSV export")
        found = Bug.search_index.filter_any(Bug.objects.all(), ["timeout"])
        self.assertEqual(list(found), [bug])

    def test_the_all_words_prefix_search_is_unchanged(self):
        found = Ticket.search_index.filter(Ticket.objects.all(), "expo tim")
        self.assertEqual(list(found), [self.export])
