"""Export rules without a database: how a journal entry becomes DATEV bookings, and how
values are written."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.accounting.exports import datev
from app.domain.accounting.exports.entries import ExportEntry, ExportLine, entries_from_rows
from app.domain.accounting.exports.fields import amount, quoted
from app.domain.errors import Conflict


def _entry(*lines: tuple[str, str]) -> ExportEntry:
    return ExportEntry(
        fiscal_year=2026,
        number=7,
        document_date=date(2026, 3, 1),
        posting_date=date(2026, 3, 2),
        document_ref=None,
        text="Test",
        kind="regular",
        currency="EUR",
        reverses=None,
        lines=tuple(
            ExportLine(n, account, Decimal(signed))
            for n, (account, signed) in enumerate(lines, start=1)
        ),
    )


def _moves(entry: ExportEntry) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Per account: what the entry debits and what it credits."""
    debit: defaultdict[str, Decimal] = defaultdict(Decimal)
    credit: defaultdict[str, Decimal] = defaultdict(Decimal)
    for line in entry.lines:
        if line.amount > 0:
            debit[line.account] += line.amount
        else:
            credit[line.account] -= line.amount
    return debit, credit


def _booked(bookings: list[datev.Booking]) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    debit: defaultdict[str, Decimal] = defaultdict(Decimal)
    credit: defaultdict[str, Decimal] = defaultdict(Decimal)
    for booking in bookings:
        debit[booking.debit_account] += booking.amount
        credit[booking.credit_account] += booking.amount
    return debit, credit


def test_a_two_line_entry_is_one_booking_from_the_debit_to_the_credit_account() -> None:
    entry = _entry(("8400", "-100.00"), ("1000", "100.00"))
    assert datev.split_entry(entry) == [datev.Booking("1000", "8400", Decimal("100.00"))]


def test_a_split_entry_pairs_debits_and_credits_greedily_in_line_order() -> None:
    purchase = _entry(("3400", "100.00"), ("1576", "19.00"), ("1200", "-59.50"), ("1000", "-59.50"))
    assert datev.split_entry(purchase) == [
        datev.Booking("3400", "1200", Decimal("59.50")),
        datev.Booking("3400", "1000", Decimal("40.50")),
        datev.Booking("1576", "1000", Decimal("19.00")),
    ]


def test_an_amount_beyond_datevs_umsatz_field_takes_several_bookings() -> None:
    huge = _entry(("1200", "25000000000.00"), ("0800", "-25000000000.00"))
    bookings = datev.split_entry(huge)
    assert [b.amount for b in bookings] == [
        datev.MAX_BOOKING_AMOUNT,
        datev.MAX_BOOKING_AMOUNT,
        Decimal("25000000000.00") - 2 * datev.MAX_BOOKING_AMOUNT,
    ]
    assert all(len(amount(b.amount).split(",")[0]) <= 10 for b in bookings)


def test_a_pair_of_one_account_on_both_sides_moves_nothing_and_is_left_out() -> None:
    entry = _entry(("1000", "50.00"), ("1200", "50.00"), ("1000", "-50.00"), ("8400", "-50.00"))
    assert datev.split_entry(entry) == [datev.Booking("1200", "8400", Decimal("50.00"))]


def test_an_entry_that_does_not_balance_is_refused() -> None:
    with pytest.raises(Conflict, match="does not balance"):
        datev.split_entry(_entry(("1000", "10.00"), ("8400", "-9.99")))


_ACCOUNTS = st.sampled_from(["1000", "1200", "1576", "1776", "3400", "8400"])
_CENTS = st.integers(min_value=1, max_value=10**9)


@st.composite
def _balanced(draw: st.DrawFn) -> ExportEntry:
    debits = draw(st.lists(_CENTS, min_size=1, max_size=6))
    total = sum(debits)
    cuts = sorted(draw(st.sets(st.integers(1, total - 1), max_size=5)) if total > 1 else set())
    credits = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    lines = [(draw(_ACCOUNTS), str(Decimal(c) / 100)) for c in debits]
    lines += [(draw(_ACCOUNTS), str(-Decimal(c) / 100)) for c in credits]
    return _entry(*draw(st.permutations(lines)))


@given(_balanced())
def test_the_bookings_move_every_account_exactly_as_the_entry(entry: ExportEntry) -> None:
    bookings = datev.split_entry(entry)
    debit, credit = _moves(entry)
    booked_debit, booked_credit = _booked(bookings)
    for account in set(debit) | set(credit):
        assert booked_debit[account] - booked_credit[account] == debit[account] - credit[account]
        if not (debit[account] and credit[account]):
            assert (booked_debit[account], booked_credit[account]) == (
                debit[account],
                credit[account],
            )
    assert all(b.amount > 0 and b.debit_account != b.credit_account for b in bookings)
    assert len(bookings) < len(entry.lines)


def test_rows_group_into_entries_in_order() -> None:
    def row(number: int, line_no: int, account: str, signed: str) -> dict[str, object]:
        return {
            "fiscal_year": 2026, "number": number, "line_no": line_no, "account": account,
            "amount": Decimal(signed), "document_date": date(2026, 1, 2),
            "posting_date": date(2026, 1, 2), "document_ref": None, "text": "x",
            "kind": "regular", "currency": "EUR", "reverses_fiscal_year": None,
            "reverses_number": None,
        }  # fmt: skip

    entries = entries_from_rows(
        [row(1, 1, "1000", "5"), row(1, 2, "8400", "-5"), row(2, 1, "1200", "7"),
         row(2, 2, "1000", "-7")]
    )  # fmt: skip
    assert [(e.number, [x.account for x in e.lines]) for e in entries] == [
        (1, ["1000", "8400"]),
        (2, ["1200", "1000"]),
    ]
    assert entries_from_rows([]) == []


@pytest.mark.parametrize(
    ("ref", "field"),
    [("RE-2026-0001", "RE-2026-0001"), ("Rg32029/2024", "Rg32029/2024"),
     ("RE 2026.01", "RE-2026-01"), ("Müller;1", "M-ller-1"), (None, None)],
)  # fmt: skip
def test_belegfeld_1_takes_only_the_characters_datev_allows(
    ref: str | None, field: str | None
) -> None:
    assert datev.document_field(ref) == field


def test_text_is_quoted_with_inner_quotes_doubled_and_no_line_breaks() -> None:
    assert quoted('Kasse "Laden"\r\n1') == '"Kasse ""Laden""  1"'
    assert quoted(None) == ""
    # What other readers take for line breaks: NEL and the Unicode line and paragraph ends.
    assert quoted("a\x85b\u2028c\u2029d") == '"a b c d"'
    assert amount(Decimal("1234567.5")) == "1234567,50"


def test_the_account_length_is_the_longest_number_and_at_least_four() -> None:
    assert datev.account_length(["1000", "8400"]) == 4
    assert datev.account_length(["1000", "84000"]) == 5
    assert datev.account_length([]) == 4


def test_a_batch_too_big_is_refused_before_its_bookings_are_made() -> None:
    """One entry of the largest amounts would make a million bookings: refused at once."""
    huge = "999999999999999.99"
    entry = _entry(*[("1000", huge)] * 10, *[("8400", f"-{huge}")] * 10)
    with pytest.raises(datev.TooManyBookings):
        datev.batch_bookings([entry])
    small = _entry(("1000", "10.00"), ("8400", "-10.00"))
    with pytest.raises(datev.TooManyBookings):
        datev.batch_bookings([small, small, small], limit=2)
    assert len(datev.batch_bookings([small, small], limit=2)) == 2
