"""Rasa's check of each action-server answer, with the JSON schema checked once instead of every turn.

Rasa 3.6 validates every custom action's answer with ``jsonschema.validate``,
which first validates the *schema itself* (Rasa's large event schema) against
the JSON-Schema meta-schema, on every call. Profiling the Rasa process under
the whole-turn benchmark (py-spy, 20 concurrent conversations) put a third of
its message-handling CPU in that ``check_schema``. The answer is still
validated against the same schema, raising the same best-matching
``ValidationError`` with Rasa's own hint appended; only the repeated meta-check
goes. ``bot.rasa_ext.serve`` installs this before Rasa starts.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Text

from jsonschema import exceptions, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def response_validator() -> Any:
    """A validator for ``RemoteAction.action_response_format_spec()``; the schema is meta-checked here, once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with the compiled validator (same errors, same message)."""
    error = exceptions.best_match(response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def install() -> None:
    """Make every ``RemoteAction`` validate answers with ``validate_action_result``."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
