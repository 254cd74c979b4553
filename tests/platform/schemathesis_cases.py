"""What a generated request needs beyond the contract, for both schemathesis runs: in-process
(test_schemathesis.py) and the CLI against a live server (test_schemathesis_cli.py)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import schemathesis

from app.http.idempotency import IDEMPOTENCY_HEADER

VALID_VAT_ID = "DE136695976"
VALID_GTIN = "4006381333931"
PUBLIC_TARGET = "https://93.184.215.14/hooks/backoffice"  # a public address, no DNS needed
ROLE_FLAGS = ("is_customer", "is_supplier")


def complete_positive_case(case: schemathesis.Case) -> None:
    """Give a valid request what the schema cannot describe (positive cases only).

    * `Idempotency-Key`: any visible-ASCII key is schema-valid, but reusing one for another body
      is rightly refused with 422; a fresh key per request is what clients are told to send.
      (Schemathesis's coverage phase sends the same boundary value, such as "0", in many cases.)
    * `If-Match`: schemathesis 4.32's coverage phase cannot build a header value for the
      documented pattern (seen with any pattern containing `*` or `"`). It then puts "0" into its
      *positive* default case while marking the header component negative, and
      `positive_data_acceptance` would flag the correct 400. And a conforming value names an
      entity tag the resource does not have (it could not know one), so on a resource that
      exists the right answer is 412, which the in-process run does not expect (the CLI's
      schemathesis.toml does). The header is optional; leaving it out of positive cases keeps
      them what they claim to be. Negative cases still send malformed values.
    * `vat_id`, `gtin`: VAT ids and GTINs have check digits the schema cannot describe; a
      random one that fits the documented pattern is rightly refused with 422.
    * `url` (webhook targets): whether a host resolves to public addresses only is not in the
      schema; a drawn host that resolves nowhere, or to a private address, is rightly refused.
    * `since`/`until` (a replay's time range): the end must come after the start, which a
      schema of two independent fields cannot say; a range that ends first is rightly refused.
    * `lines` of a journal entry: the debits must equal the credits, and a line's currency the
      entry's; a schema of independent lines cannot say either. The drawn lines are made to
      balance (accounts that do not exist are still a documented 409).
    * `from`/`to` (a report's or an export's days): the range must not end before it starts
      (and an export's must lie in one fiscal year); the drawn range is made one day.
    * `is_customer`/`is_supplier`: a partner needs one of them. The create body's schema says
      so, but whether a partial update leaves a role depends on the stored partner; a body
      that sets the role flags it sends to false is given a role.

    Without these, `positive_data_acceptance` would report the API's correct answers. Negative
    cases are untouched, so malformed keys and If-Match values are still sent and must be
    rejected. (`cursor` needs nothing: the contract pins its syntax, and every cursor of that
    syntax is a position a page can start after; see app/db/keyset.py.)
    """
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if case.headers and IDEMPOTENCY_HEADER in case.headers:
        case.headers[IDEMPOTENCY_HEADER] = uuid.uuid4().hex
    if case.headers and "If-Match" in case.headers:
        del case.headers["If-Match"]
    if isinstance(case.body, dict) and isinstance(case.body.get("vat_id"), str):
        case.body["vat_id"] = VALID_VAT_ID
    if isinstance(case.body, dict) and isinstance(case.body.get("gtin"), str):
        case.body["gtin"] = VALID_GTIN
    if isinstance(case.body, dict) and isinstance(case.body.get("url"), str):
        case.body["url"] = PUBLIC_TARGET
    if isinstance(case.body, dict) and {"since", "until"} <= case.body.keys():
        _order_range(case.body)
    query = case.query or {}
    if isinstance(query.get("from"), str) and isinstance(query.get("to"), str):
        query["to"] = query["from"]
    if isinstance(case.body, dict) and isinstance(case.body.get("lines"), list):
        _balance(case.body["lines"])
    roles = [case.body.get(r) for r in ROLE_FLAGS] if isinstance(case.body, dict) else []
    if isinstance(case.body, dict) and any(r is False for r in roles) and True not in roles:
        case.body["is_customer"] = True


def _balance(lines: list[object]) -> None:
    """The first line debits what the others (one each) credit. Copies: a generated list may
    hold one dict twice."""
    booked = [
        i for i, x in enumerate(lines) if isinstance(x, dict) and {"side", "amount"} <= x.keys()
    ]
    for order, index in enumerate(booked):
        original = lines[index]
        assert isinstance(original, dict)
        line = {k: v for k, v in original.items() if k != "currency"}
        line["side"] = "debit" if order == 0 else "credit"
        line["amount"] = f"{len(booked) - 1}.00" if order == 0 else "1.00"
        lines[index] = line


def _order_range(body: dict[str, object]) -> None:
    try:
        since = datetime.fromisoformat(str(body["since"]))
        until = datetime.fromisoformat(str(body["until"]))
    except ValueError:
        return
    if until <= since and since < datetime.max.replace(tzinfo=since.tzinfo) - timedelta(days=2):
        body["until"] = (since + timedelta(days=1)).isoformat()
