"""What every genmimic command-line tool shares: one-line errors, progress on stderr, logging."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ParamSpec, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

from .errors import GenMimicError

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


def _command_name() -> str:
    """The running genmimic command's name (``genmimic-retarget``), or "" when not run as one."""
    prog = os.path.basename(sys.argv[0]) if sys.argv else ""
    return prog if prog.startswith("genmimic") else ""


def error_line(message: str) -> str:
    """The one line an error is reported as: ``genmimic-retarget: error: message`` when run as a genmimic command,
    so that an error in a pipeline of stages (``genmimic-lift ... | genmimic-retarget - ... | genmimic-policy
    track - ...``) says which stage it came from, as Unix tools do; ``error: message`` otherwise (e.g. a
    command run in-process by typer's ``CliRunner`` or ``python -c``)."""
    prog = _command_name()
    return f"{prog}: error: {message}" if prog else f"error: {message}"


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print :func:`error_line` of ``message`` on stderr and return the Exit to raise."""
    typer.echo(error_line(message), err=True)
    return typer.Exit(code)


def reports_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a typer command: a :class:`GenMimicError` becomes one line on stderr and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except GenMimicError as err:
            raise fail(str(err)) from None
        except BrokenPipeError:  # downstream closed the pipe (`| head`): not our error
            sys.stderr.close()
            raise typer.Exit(1) from None

    return wrapper


def progress(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar on stderr when stderr is a terminal; silently otherwise."""
    if not sys.stderr.isatty():
        yield from items
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        yield from bar.track(items, total=total, description=description)


@contextlib.contextmanager
def counts_progress(description: str, total: int) -> Iterator[Callable[[int, int, int], None]]:
    """A progress bar over ``total`` items that also shows how many are done, failed and running, on
    stderr when it is a terminal (silently otherwise); yields ``update(done, failed, running)``."""
    if not sys.stderr.isatty():
        yield lambda done, failed, running: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[counts]}"), TimeElapsedColumn(), console=Console(stderr=True),
                  transient=True) as bar:
        task = bar.add_task(description, total=total, counts="")

        def update(done: int, failed: int, running: int) -> None:
            bar.update(task, completed=done + failed, counts=f"done {done}  failed {failed}  running {running}")

        yield update


class _CommandFormatter(logging.Formatter):
    """``genmimic-<stage>: message`` for the project's loggers (``genmimic.<stage>.<module>``), as the
    commands name themselves in their own lines: the running genmimic command's name (so a shared module's
    line, e.g. genmimic-core's signal handling inside ``genmimic-policy train``, names the command the user
    ran), else the logger's stage; ``-v`` keeps the module (``genmimic.lift.lift_video``)."""

    def __init__(self, verbose: bool) -> None:
        super().__init__("%(message)s")
        self.verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        parts = record.name.split(".")
        stage = _command_name() or (f"genmimic-{parts[1]}" if len(parts) > 1 else record.name)
        who = record.name if self.verbose or parts[0] != "genmimic" else stage
        return f"{who}: {super().format(record)}"


def setup_logging(verbose: bool = False) -> None:
    """Log to stderr: INFO with ``-v``, else WARNING; messages only, stdout stays for data."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_CommandFormatter(verbose))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler], force=True)


def version_option(distribution: str) -> Callable[[bool], None]:
    """A typer ``--version`` callback that prints ``distribution``'s installed version and exits."""

    def callback(value: bool) -> None:
        if value:
            from importlib.metadata import PackageNotFoundError, version

            try:
                typer.echo(f"{distribution} {version(distribution)}")
            except PackageNotFoundError:
                typer.echo(f"{distribution} (not installed)")
            raise typer.Exit()

    return callback


# click's UsageError and ClickException, from typer's own click (vendored since typer 0.24) or click's
_USAGE_ERROR, _CLICK_EXCEPTION = (next(c for c in typer.BadParameter.__mro__ if c.__name__ == name)
                                  for name in ("UsageError", "ClickException"))


class _OneLineUsageErrors:
    """Mixin for click commands and groups: usage errors as one line (see :meth:`main`)."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        """As click's ``main``, but a usage error (an unknown option, a bad or missing value) is reported as one
        line on stderr (:func:`error_line`, naming the option and where its help is), exit code 2, as the
        project's other errors are, instead of Typer's boxed message."""
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except _USAGE_ERROR as e:
            where = e.ctx.command_path if e.ctx is not None else self.name
            typer.echo(error_line(f"{e.format_message().rstrip('.')}; fix: see `{where} --help`"), err=True)
            sys.exit(e.exit_code)
        except _CLICK_EXCEPTION as e:
            typer.echo(error_line(e.format_message()), err=True)
            sys.exit(e.exit_code)
        except typer.Abort:
            typer.echo(error_line("aborted"), err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


class DefaultCommandGroup(_OneLineUsageErrors, TyperGroup):
    """A command group that runs ``default_command`` when the first argument names no command.

    So ``genmimic-retarget IN.npz -o OUT.npz`` works beside ``genmimic-retarget batch DIR -o DIR``.
    """

    default_command: str | None = None

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        if self.default_command and args and args[0] not in self.commands and (
            not args[0].startswith("-") or args[0] == "-"
        ):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


class OneLineCommand(_OneLineUsageErrors, TyperCommand):
    """A typer command whose usage errors are one line (an app of one command runs it directly)."""


class HelpTyper(typer.Typer):
    """``typer.Typer`` whose help reads as written: help text is rendered as Markdown (Typer's "rich" mode
    takes ``[s]``, ``[m]`` and other units in brackets for markup tags and drops them; Markdown also joins a
    docstring's hard-wrapped lines, so the terminal wraps each paragraph at its own width)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("rich_markup_mode", "markdown")
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", OneLineCommand)
        return super().command(*args, **kwargs)


def stage_app(distribution: str, help: str, default_command: str | None = None) -> typer.Typer:
    """The Typer app of a genmimic command: ``--version``, and the help when run without a command.

    With ``default_command``, arguments that do not start with a command name go to that command.
    """
    group = type("StageGroup", (DefaultCommandGroup,), {"default_command": default_command})
    app = HelpTyper(help=help, add_completion=False, cls=group, no_args_is_help=False)

    @app.callback(invoke_without_command=True)
    def main(
        ctx: typer.Context,
        version: bool | None = typer.Option(None, "--version", callback=version_option(distribution),
                                            is_eager=True, help="Print the version and exit."),
    ) -> None:
        if ctx.invoked_subcommand is None:
            typer.echo(ctx.get_help())

    return app
