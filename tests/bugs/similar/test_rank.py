"""suggest(): reworded duplicates rank above look-alikes; only open rows; exclusions."""

from sustain.bugs.similar.rank import search_terms, significant_words, suggest
from sustain.desk import actions as desk
from tests.bugs.similar.helpers import SimilarTestCase

DISTRACTORS = [
    "CSV export shows wrong totals at month end",
    "Excel export is missing rows for the German locale",
    "Login fails in Safari",
    "Invoice PDF layout is broken with a discount applied",
    "Payment with PayPal is declined during peak hours",
    "Scheduled report is sent twice",
    "CSV import skips rows with semicolon separators",
    "Password reset e-mail never arrives for Gmail addresses",
]


class RankingTests(SimilarTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        for title in DISTRACTORS:
            desk.open_ticket(cls.carol, title=title, description="Hello, please have a look.")
        cls.original = desk.open_ticket(
            cls.carol,
            title="CSV export times out with more than 10,000 rows",
            description="Exporting the customer list to CSV runs into a gateway timeout.",
        )

    def test_a_reworded_duplicate_ranks_first_over_look_alikes(self):
        found = suggest(
            self.alice,
            title="Exporting to csv hangs and then gives a timeout for big exports (10k+ rows)",
        )
        self.assertLessEqual(len(found), 5)
        self.assertEqual(found[0].key, self.original.key)
        self.assertEqual(
            (found[0].kind, found[0].status, found[0].url),
            ("ticket", "new", f"/desk/t/{self.original.key}"),
        )
        self.assertTrue(all(0 <= s.score <= 100 for s in found))
        self.assertEqual([s.score for s in found], sorted((s.score for s in found), reverse=True))

    def test_a_typo_and_capitals_still_find_it(self):
        found = suggest(self.alice, title="CSV EXPROT TIMES OUT WITH 10000 ROWS")
        self.assertEqual(found[0].key, self.original.key)

    def test_bugs_and_tickets_are_mixed_in_one_ranking(self):
        bug = self.bug("Timeout in CSV export of large customer lists")
        found = suggest(self.alice, title="csv export timeout with large lists")
        self.assertEqual({s.kind for s in found[:2]}, {"bug", "ticket"})
        self.assertIn(bug.key, self.keys(found))

    def test_limit_and_nothing_for_a_title_without_words(self):
        self.assertEqual(len(suggest(self.alice, title="export rows csv", limit=2)), 2)
        self.assertEqual(suggest(self.alice, title="the of and"), [])
        self.assertEqual(suggest(self.alice, title=""), [])
        self.assertEqual(suggest(self.alice, title="export", limit=0), [])

    def test_unrelated_text_suggests_nothing(self):
        self.assertEqual(suggest(self.alice, title="Kubernetes node certificate rotation"), [])

    def test_closed_tickets_and_bugs_are_not_suggested(self):
        desk.transition(self.alice, self.original, "resolved", reason="")
        fixed = self.bug("CSV export times out with more than 10,000 rows", status="fixed")
        self.bug("CSV export times out with 10,000 rows", status="duplicate")
        keys = self.keys(suggest(self.alice, title="CSV export times out with 10,000 rows"))
        self.assertNotIn(self.original.key, keys)
        self.assertNotIn(fixed.key, keys)
        self.assertFalse([k for k in keys if k.startswith("BUG-")])

    def test_exclude_leaves_out_the_row_being_written(self):
        bug = self.bug("CSV export times out with more than 10,000 rows")
        title = "CSV export times out with more than 10,000 rows"
        by_ticket = self.keys(suggest(self.alice, title=title, exclude_ticket=self.original))
        self.assertNotIn(self.original.key, by_ticket)
        self.assertIn(bug.key, by_ticket)
        self.assertNotIn(
            self.original.key,
            self.keys(suggest(self.alice, title=title, exclude_ticket=self.original.key.lower())),
        )
        by_bug = self.keys(suggest(self.alice, title=title, exclude_bug=bug))
        self.assertNotIn(bug.key, by_bug)
        self.assertIn(self.original.key, by_bug)
        self.assertNotIn(bug.key, self.keys(suggest(self.alice, title=title, exclude_bug=bug.pk)))

    def test_a_title_full_of_common_words_still_answers(self):
        for n in range(30):
            desk.open_ticket(self.carol, title=f"error {n} on the server with the page")
        found = suggest(self.alice, title=" ".join(["error page server the a"] * 40))
        self.assertLessEqual(len(found), 5)


class WordTests(SimilarTestCase):
    def test_stop_words_go_and_forms_of_a_word_meet(self):
        self.assertEqual(significant_words("The exports are failing!"), ["export", "fail"])
        self.assertEqual(significant_words("Exported"), significant_words("exporting"))
        self.assertEqual(significant_words("HTTP 500 on /api"), ["http", "500", "api"])

    def test_at_most_eight_search_terms_the_longest_kept(self):
        terms = search_terms("one two three four five six seven eight nine ten eleven twelve")
        self.assertEqual(len(terms), 8)
        self.assertIn("eleven", terms)
        self.assertEqual(
            search_terms("export", "the csv file times out"), ["export", "csv", "file", "time"]
        )
