"""A rich progress bar for training, fed by :class:`~rnncast.training.EpochRecord`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from rnncast.training import EpochRecord

__all__ = ["training_bar"]


@contextlib.contextmanager
def training_bar(
    description: str, epochs: int, console: Console | None = None
) -> Iterator[Callable[[EpochRecord], None]]:
    """Show a bar of epochs with train and validation loss; yield the epoch callback."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("train {task.fields[train]}  val {task.fields[val]}"),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        transient=False,
    )
    task = progress.add_task(description, total=epochs, train="-", val="-")

    def on_epoch(record: EpochRecord) -> None:
        val = "-" if record.val_loss is None else f"{record.val_loss:.4f}"
        progress.update(
            task, completed=record.epoch, train=f"{record.train_loss:.4f}", val=val
        )

    with progress:
        yield on_epoch
        # Early stopping ends before `epochs`; show the bar as finished.
        progress.update(task, total=progress.tasks[0].completed)
