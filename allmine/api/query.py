"""Query parameters of the hot lists, read without a DRF serializer per request.

A `Serializer` built and validated per request cost a list about a tenth of its 304 (field
deep-copies, binding, the validation walk). These checks give the same values and the same
messages as `QueryIntegerField` and `ChoiceField` would (tests/api/test_query.py compares
them), and a bad value is the same 400 naming the parameter.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from rest_framework.exceptions import ErrorDetail, ValidationError

_MAX_STRING_LENGTH = 1000  # DRF IntegerField's


@dataclass(frozen=True)
class Integer:
    """A query-string integer in plain digits (no sign, spaces or `1.0`), in range."""

    minimum: int
    maximum: int
    default: int

    def parse(self, raw: str) -> int:
        if not (raw.isascii() and raw.isdigit()):
            raise _Invalid("A valid integer is required.", "invalid")
        if len(raw) > _MAX_STRING_LENGTH:
            raise _Invalid("String value too large.", "max_string_length")
        value = int(raw)
        if value > self.maximum:
            raise _Invalid(
                f"Ensure this value is less than or equal to {self.maximum}.", "max_value"
            )
        if value < self.minimum:
            raise _Invalid(
                f"Ensure this value is greater than or equal to {self.minimum}.", "min_value"
            )
        return value


@dataclass(frozen=True)
class Choice:
    """One of `choices` (as written); `default` when absent (None: left out of the result)."""

    choices: Collection[str]
    default: str | None = None

    def parse(self, raw: str) -> str:
        if raw not in self.choices:
            raise _Invalid(f'"{raw}" is not a valid choice.', "invalid_choice")
        return raw


class _Invalid(Exception):
    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.detail = ErrorDetail(message, code=code)


def read_query(params: Mapping[str, str], spec: Mapping[str, Integer | Choice]) -> dict:
    """The parameters of `spec` read from `params` (a QueryDict: the last value of each),
    defaults filled in; every bad one a 400 naming it, in `spec`'s order."""
    values, errors = {}, {}
    for name, param in spec.items():
        raw = params.get(name)
        if raw is None:
            if param.default is not None:
                values[name] = param.default
            continue
        try:
            values[name] = param.parse(raw)
        except _Invalid as error:
            errors[name] = [error.detail]
    if errors:
        raise ValidationError(errors)
    return values
