"""Model time: the one place where steps and calendar dates are converted.

Step k (k >= 1) covers the half-open interval [start + (k-1)*unit, start + k*unit).
Scenario files accept either a date or a step wherever a time is written; everything
downstream works in steps, and only reports convert back to dates.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

UNITS = ("day", "week", "month")


def _add_months(day: date, months: int) -> date:
    """Shift a date by whole months, clamping the day to the month's length."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Timeline:
    """Converts between step numbers and dates for one scenario.

    Attributes:
        start: first day of step 1.
        unit: length of a step: "day", "week" or "month".
    """

    start: date
    unit: str = "week"

    def __post_init__(self):
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, got {self.unit!r}")

    def date_of_step(self, step: int) -> date:
        """First day of step `step` (step 1 starts on `start`)."""
        offset = step - 1
        if self.unit == "day":
            return self.start + timedelta(days=offset)
        if self.unit == "week":
            return self.start + timedelta(weeks=offset)
        return _add_months(self.start, offset)

    def step_of(self, when: date | int) -> int:
        """The step whose interval contains `when`; an int is already a step.

        Dates before `start` map to steps <= 0, which callers treat as "before the run".
        """
        if isinstance(when, bool):
            raise TypeError("a time is a date or a step number, not a boolean")
        if isinstance(when, int):
            return when
        if self.unit == "day":
            return (when - self.start).days + 1
        if self.unit == "week":
            return (when - self.start).days // 7 + 1
        months = (when.year - self.start.year) * 12 + (when.month - self.start.month)
        if _add_months(self.start, months) > when:
            months -= 1
        return months + 1
