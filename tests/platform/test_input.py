"""Numbers typed in a query string (``helpdesk.input.whole_number``): ASCII digits that fit, or None; a page
number or id that ``int()`` cannot read is a 400 (or the first page), not a 500."""

from __future__ import annotations

from helpdesk.input import whole_number


def test_whole_numbers_are_ascii_digits_that_fit():
    assert [whole_number(text) for text in ("0", "42", "007", "9223372036854775807")] == [0, 42, 7, 2**63 - 1]
    assert whole_number("100", at_most=100) == 100


def test_anything_else_is_none_without_int_reading_it():
    odd = ["", None, "-1", "1.0", " 1", "1e3", "²", "٣", "99999999999999999999", "9223372036854775808"]
    odd.append("0" * 5000 + "1")  # int() reads no more than 4,300 digits, leading zeros included
    assert [whole_number(text) for text in odd] == [None] * len(odd)
    assert whole_number("101", at_most=100) is None


def test_a_page_number_int_cannot_read_is_a_400_from_the_api_and_the_first_page_of_the_queue(api, client_for, alice):
    for query in ({"page": "²"}, {"page_size": "²"}, {"page": "9" * 5000}, {"page_size": "9" * 5000}):
        assert api(alice).get("/api/v1/customers/", query).status_code == 400, query
    assert api(alice).get("/api/v1/tickets/", {"assignee": "9" * 5000}).status_code == 400
    for page in ("²", "9" * 5000):
        assert client_for(alice).get("/desk/", {"page": page}).status_code == 200
