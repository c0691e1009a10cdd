"""The argparse layer of ``blocks``: "did you mean" on typos, examples in every help text, help
for a command group given without a sub-command, and walks over the parser tree.

Completion, suggestions and help all read the parser tree built from the ``*_cmds`` modules, so
a new command (or sub-command, option or choice) gets them by being registered, nothing else.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

from blocks.cli.examples import examples_for

Path = tuple[str, ...]


def did_you_mean(word: str, candidates: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidates, or ``""`` when none is close."""
    matches = difflib.get_close_matches(word, list(candidates), n=3, cutoff=0.6)
    if not matches:
        matches = [c for c in candidates if word and c.startswith(word)][:3]
    if not matches:
        return ""
    return " (did you mean " + " or ".join(repr(m) for m in matches) + "?)"


class BlocksParser(argparse.ArgumentParser):
    """``ArgumentParser`` with suggestions for mistyped choices and a verbatim epilog.

    Sub-parsers are of the same class (argparse's default ``parser_class``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if action.choices is None or value in action.choices:
            return
        choices = [str(c) for c in action.choices]
        hint = did_you_mean(str(value), choices)
        if isinstance(action, argparse._SubParsersAction):
            raise argparse.ArgumentError(
                None, f"unknown command {value!r}{hint}; see '{self.prog} --help'"
            )
        raise argparse.ArgumentError(
            action, f"invalid choice {value!r}{hint}; choose from {', '.join(choices)}"
        )

    def format_help(self) -> str:
        # The epilog (examples) is printed as written, not re-wrapped.
        epilog, self.epilog = self.epilog, None
        try:
            text = super().format_help()
        finally:
            self.epilog = epilog
        return text + ("\n" + epilog.strip("\n") + "\n" if epilog else "")

    def unrecognized(self, extras: Sequence[str]) -> NoReturn:
        """Exit with a usage error naming the first unknown argument and its closest match."""
        first = extras[0]
        option, _, _ = first.partition("=")
        hint = did_you_mean(option, option_strings(self)) if option.startswith("-") else ""
        more = f" (and {len(extras) - 1} more)" if len(extras) > 1 else ""
        self.error(f"unrecognized argument {first!r}{hint}{more}")


class _Formatter(argparse.HelpFormatter):
    """Sub-command names as long as ``default-template`` on the line of their help."""

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):  # argparse under-counts these
            longest = max((len(name) for name in action.choices), default=0)
            self._action_max_length = max(self._action_max_length,
                                          longest + self._current_indent + 2 * 2)


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """A parser's sub-commands by name (aliases included), in registration order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def subcommand_help(parser: argparse.ArgumentParser) -> dict[str, str]:
    """The one-line help of each sub-command (empty for hidden ones)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return {a.dest: a.help or "" for a in action._choices_actions}
    return {}


def option_strings(parser: argparse.ArgumentParser) -> list[str]:
    """Every option string the parser accepts, ``-h``/``--help`` included."""
    return [s for a in parser._actions if a.help is not argparse.SUPPRESS
            for s in a.option_strings]


def walk(parser: argparse.ArgumentParser, path: Path = ()
         ) -> Iterator[tuple[Path, argparse.ArgumentParser]]:
    """Every parser of the tree with its command path (``()``, ``("keys",)``, ...)."""
    yield path, parser
    seen: set[int] = set()
    for name, sub in subcommands(parser).items():
        if id(sub) not in seen:  # an alias maps to the same parser
            seen.add(id(sub))
            yield from walk(sub, (*path, name))


def chosen(parser: argparse.ArgumentParser, argv: Sequence[str]
           ) -> tuple[Path, argparse.ArgumentParser]:
    """The deepest command that ``argv`` names (``blocks --json keys status`` -> keys status)."""
    path: Path = ()
    for word in argv:
        sub = subcommands(parser).get(word)
        if sub is not None:
            parser, path = sub, (*path, word)
    return path, parser


def finish(root: argparse.ArgumentParser) -> None:
    """Give every command its examples, and every command group a help handler: ``blocks``
    or ``blocks keys`` alone print their help (on stdout, exit 0, as ``gh`` does)."""
    for path, parser in walk(root):
        if parser.epilog is None:
            parser.epilog = examples_for(path)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                action.required = False
                parser.set_defaults(handler=_help_handler(parser))


def _help_handler(parser: argparse.ArgumentParser) -> Any:
    def show_help(_args: argparse.Namespace) -> int:
        parser.print_help(sys.stdout)
        return 0

    return show_help
