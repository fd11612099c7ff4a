"""``mailfate <noun> <verb>``: the root of the command line."""

from __future__ import annotations

import sys

import typer

from mailfate import __version__
from mailfate.cli.bounce import app as bounce_app
from mailfate.cli.demo import demo_cmd
from mailfate.cli.doctor import doctor_app
from mailfate.cli.messages import queue_cmd, send_cmd, trace_cmd
from mailfate.cli.output import error, json_errors
from mailfate.cli.report import report_cmd
from mailfate.cli.serve import config_app, keys_app, serve_cmd, ses_app
from mailfate.cli.simulator import app as simulator_app
from mailfate.cli.suppression import app as suppression_app
from mailfate.cli.webhooks import app as webhooks_app
from mailfate.cli.worker import worker_cmd

app = typer.Typer(
    name="mailfate",
    help="Send transactional mail, follow every message to its fate, classify every bounce.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("demo")(demo_cmd)
app.command("send")(send_cmd)
app.command("trace")(trace_cmd)
app.command("queue")(queue_cmd)
app.command("worker")(worker_cmd)
app.command("serve")(serve_cmd)
app.command("report")(report_cmd)
app.add_typer(keys_app, name="keys")
app.add_typer(config_app, name="config")
app.add_typer(ses_app, name="ses")
app.add_typer(suppression_app, name="suppression")
app.add_typer(bounce_app, name="bounce")
app.add_typer(simulator_app, name="simulator")
app.add_typer(doctor_app, name="doctor")
app.add_typer(webhooks_app, name="webhooks")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mailfate {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """mailfate: what happened to every email your application sent, and what to fix."""


def main() -> None:
    """The ``mailfate`` command. Under ``--json`` every error is one JSON object on standard error,
    including those Click reports before a command runs (a usage error) and an unexpected one."""
    if not json_errors(sys.argv[1:]):
        app()
        return
    try:
        result = app(standalone_mode=False)
    except typer.Abort:  # Ctrl-C
        result = _code(error("interrupted", 130))
    except typer.TyperException as exc:  # Click's usage errors (typer vendors Click): before the command
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        result = _code(error(message, int(getattr(exc, "exit_code", 2))))
    except Exception as exc:  # a script reading --json gets JSON, even for a bug
        result = _code(
            error(f"unexpected error (a bug, please report it): {exc.__class__.__name__}: {exc}", 1)
        )
    sys.exit(result if isinstance(result, int) else 0)


def _code(exit_: typer.Exit) -> int:
    return int(exit_.exit_code)
