"""What a generated request needs beyond the contract, for both schemathesis runs: in-process
(test_schemathesis.py) and the CLI against a live server (test_schemathesis_cli.py)."""

from __future__ import annotations

import re
import uuid

import schemathesis

from app.http.conditional import IF_MATCH_PATTERN
from app.http.idempotency import IDEMPOTENCY_HEADER


def complete_positive_case(case: schemathesis.Case) -> None:
    """Give a valid request what the schema cannot describe (positive cases only).

    * `Idempotency-Key`: any visible-ASCII key is schema-valid, but reusing one for another body
      is rightly refused with 422; a fresh key per request is what clients are told to send.
      (Schemathesis's coverage phase sends the same boundary value, such as "0", in many cases.)
    * `If-Match`: schemathesis 4.32's coverage phase cannot build a header value for the
      documented pattern (seen with any pattern containing `*` or `"`). It then puts "0" into its
      *positive* default case while marking the header component negative, and
      `positive_data_acceptance` would flag the correct 400. The header is optional; leaving it
      out keeps the case what it claims to be. Fuzzed cases do send conforming values.

    Without these, `positive_data_acceptance` would report the API's correct answers. Negative
    cases are untouched, so malformed keys and If-Match values are still sent and must be
    rejected. (`cursor` needs nothing: the contract pins its syntax, and every cursor of that
    syntax is a position a page can start after; see app/db/keyset.py.)
    """
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if case.headers and IDEMPOTENCY_HEADER in case.headers:
        case.headers[IDEMPOTENCY_HEADER] = uuid.uuid4().hex
    if case.headers and not re.fullmatch(IF_MATCH_PATTERN, case.headers.get("If-Match", "*")):
        del case.headers["If-Match"]
