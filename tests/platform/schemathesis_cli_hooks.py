"""Hooks of the schemathesis CLI run against a live server (test_schemathesis_cli.py); `st`
loads this module through tests/platform/schemathesis.toml."""

from __future__ import annotations

import os
import uuid
from typing import Any

import schemathesis

from tests.platform.schemathesis_cases import complete_positive_case

# The account the run signs in as, set by the test.
CALLER_ID_VARIABLE = "ST_CALLER_ID"
_READS = frozenset({"GET", "HEAD"})


def _spare_the_caller(case: schemathesis.Case) -> None:
    """Point a change aimed at the run's own account at an unknown id instead (a 404).

    The run finds its own id (in /auth/me, in the user list) and would set its own password,
    deactivate itself or drop its own roles: correct requests, answered correctly, but from then
    on the run cannot sign in again (or holds no permission) and every later request is a
    documented 401/403, so nothing else would be tested. Reads of the own account stay.
    Signing out everywhere needs nothing: the run signs in again (schemathesis.toml).
    """
    caller = os.environ.get(CALLER_ID_VARIABLE)
    if not caller or case.method.upper() in _READS or not case.path_parameters:
        return
    for name, value in case.path_parameters.items():
        if str(value) == caller:
            case.path_parameters[name] = str(uuid.uuid4())


@schemathesis.hook
def before_call(context: Any, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    _spare_the_caller(case)
    complete_positive_case(case)
