"""What every command shares: the consoles, the way a product error ends a command, the wired service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from dualsign.bootstrap.config import load_settings
from dualsign.bootstrap.container import Container, build_container
from dualsign.domain.errors import DualSignError

# Text is never wrapped by the console: a path or a link broken over two lines cannot be copied or
# found by a script. Tables still size themselves to the terminal.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def fresh_consoles() -> None:
    """Fresh consoles for each command, sized from the terminal (and COLUMNS) as it is now."""
    global out, err
    out = Console(soft_wrap=True)
    err = Console(stderr=True, soft_wrap=True)


@contextmanager
def errors() -> Iterator[None]:
    try:
        yield
    except DualSignError as exc:
        err.print(f"[red]error:[/red] {exc.diagnostics()}", markup=True, highlight=False)
        raise typer.Exit(2) from None


@contextmanager
def service() -> Iterator[Container]:
    """The wired service for one command; its database connections are closed after."""
    c = build_container(load_settings())
    try:
        yield c
    finally:
        c.close()
