"""Where a notification goes: the channels a user chose for its kind. Plain rules, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from services.common.errors import FieldProblem, ValidationFailed

IN_APP, EMAIL, WEBHOOK = "in_app", "email", "webhook"
CHANNELS = (IN_APP, EMAIL, WEBHOOK)
ANY_KIND = "*"  # the preference for every kind without one of its own
DEFAULT = (IN_APP,)


def channels_for(kind: str, chosen: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The kind's own choice, else the user's choice for any kind, else in-app only."""
    if kind in chosen:
        return tuple(chosen[kind])
    return tuple(chosen.get(ANY_KIND, DEFAULT))


def check_preferences(prefs: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Preferences as sent (`{kind: [channel, ...]}`), checked; problems name the entry."""
    problems = []
    clean: dict[str, tuple[str, ...]] = {}
    for kind, channels in prefs.items():
        if not kind.strip() or len(kind) > 200:
            problems.append(FieldProblem(f"preferences.{kind}", "is not a notification kind"))
        for i, channel in enumerate(channels):
            if channel not in CHANNELS:
                problems.append(
                    FieldProblem(
                        f"preferences.{kind}[{i}]", "must be one of " + ", ".join(CHANNELS)
                    )
                )
        clean[kind] = tuple(dict.fromkeys(channels))
    if problems:
        raise ValidationFailed(problems)
    return clean
