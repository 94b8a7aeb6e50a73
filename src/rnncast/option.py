"""One parameter's declaration: :class:`Option` and the field that carries it.

:mod:`rnncast.options` declares every parameter of the Forecaster with
:func:`option_field`; :func:`rnncast.options.options` turns the fields into
:class:`Option` objects, from which the signature, the docstring, the command line
and the model files derive. Imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rnncast.exceptions import ConfigError

__all__ = ["Check", "Option", "option_field"]

Check = Callable[[str, Any], None]


@dataclass(frozen=True)
class Option:
    """One parameter: its name, default, allowed values, help and CLI spelling.

    Attributes
    ----------
    name, default
        As in the Forecaster's signature.
    help : str
        One line, for ``--help`` and the docstring.
    kind : str
        Its type as the docstring writes it, e.g. ``"int or sequence of int"``.
    choices : tuple or None
        Allowed values (None: any that ``check`` accepts).
    check : callable or None
        ``check(name, value)`` raises ConfigError for a bad value.
    group : str
        Where ``--help`` lists it: model, training, data, intervals or run.
    flag : str or None
        Its command-line flag (None: set by another flag, e.g. ``progress`` by
        ``--quiet``). A boolean defaulting to True is a ``--no-...`` flag.
    parse : str or None
        How the command line reads the flag's text: ``"int"``,
        ``"positive_int"``, ``"non_negative_int"``, ``"float"``, ``"limit"`` (a
        positive int or ``none``), ``"widths"``
        (``128,64``), ``"lookbacks"`` (``36`` or ``24,36``), ``"dilations"``
        (``1,24`` or groups ``1,4/24,168``), ``"seasons"`` (``24`` or
        ``24,168``), ``"frequency"`` (an
        alias or an integer step), ``"clip_norm"`` (0 for None); None: text.
    default_text : str or None
        The default as ``--help`` should say it, when ``default`` does not
        (``lookback``: computed from the horizon and the season).
    label : str or None
        How errors name it, if not by ``name``.
    """

    name: str
    default: Any
    help: str
    kind: str
    choices: tuple[Any, ...] | None = None
    check: Check | None = None
    group: str = "model"
    flag: str | None = None
    parse: str | None = None
    default_text: str | None = None
    label: str | None = None

    def validate(self, value: Any) -> None:
        """Raise ConfigError unless ``value`` is allowed."""
        if self.choices is not None and value not in self.choices:
            shown = tuple(c for c in self.choices if c is not None)
            raise ConfigError(
                f"unknown {self.label or self.name} {value!r}; choose one of {shown}."
            )
        if self.check is not None:
            self.check(self.name, value)

    @property
    def shown_default(self) -> str:
        """The default as documentation writes it."""
        if self.default_text is not None:
            return self.default_text
        return repr(self.default)


def option_field(
    default: Any,
    help: str,
    kind: str,
    **settings: Any,
) -> Any:
    """Return a dataclass field carrying its :class:`Option` settings as metadata."""
    settings = {"help": help, "kind": kind, **settings}
    return field(default=default, metadata={"option": settings})
