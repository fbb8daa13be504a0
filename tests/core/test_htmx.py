"""core.htmx.run: the form → action → answer step every in-place control shares."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpResponse
from django.test import SimpleTestCase

from sustain.core import htmx
from sustain.core.errors import Conflict


class PriorityForm(forms.Form):
    priority = forms.IntegerField(min_value=1, max_value=4)


class RunTests(SimpleTestCase):
    def setUp(self) -> None:
        self.applied: list[dict[str, Any]] = []
        self.errors: list[str] = []

    def answer(self, error: str) -> HttpResponse:
        self.errors.append(error)
        return HttpResponse(error, status=422 if error else 200)

    def test_a_valid_form_runs_the_action_and_answers_without_error(self) -> None:
        response = htmx.run(PriorityForm({"priority": "2"}), self.applied.append, self.answer)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.applied, [{"priority": 2}])
        self.assertEqual(self.errors, [""])

    def test_an_invalid_form_answers_its_first_problem_and_runs_nothing(self) -> None:
        response = htmx.run(PriorityForm({"priority": "9"}), self.applied.append, self.answer)
        self.assertEqual(response.status_code, 422)
        self.assertEqual(self.applied, [])
        self.assertEqual(self.errors, ["priority: Ensure this value is less than or equal to 4."])

    def test_a_refused_action_answers_its_message(self) -> None:
        def refuse(data: dict[str, Any]) -> None:
            raise Conflict("INC-1 is closed.", field="status")

        htmx.run(PriorityForm({"priority": "1"}), refuse, self.answer)
        self.assertEqual(self.errors, ["INC-1 is closed."])
