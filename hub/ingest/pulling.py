"""A partner's pull (HTTP, parsing, `normalise`) and `prepare`, in a process of their own.

A sync is CPU-bound in Python: pulling and parsing a feed and preparing its drafts take about as
long as writing them. `PullProcess` runs the first part in one child process, which streams the
batches back prepared over a pipe while the sync's own process writes the previous ones, so that
both halves run at once on two cores. The child is a new Python process (`subprocess`, no fork
of a process that holds threads, an event loop and database connections, and no import of the
parent's main module as multiprocessing's spawn does), given two pipes; it imports the
connectors and the pipeline, never storage, and opens no database: the label map arrives with
the job, and again whenever the writing side reads a different one.

Memory stays flat: the child is a batch or two ahead (one being received or waiting, the next
filling the pipe's buffer), then blocks on its send until the writing side takes the next one.

What a batch carries besides its prepared outcomes is how many records it read, for progress.
The ids the pull listed, for the repeats it refuses and the absence check, go to the file the
job names (hub.ingest.listed), closed before the child says it is done: they never cross the
pipe, and the sync's process holds none of them while it writes. A failure in the
child (a `ConnectorError`, or a bug) comes back as the same exception once the batches before it
are handed over; a child that dies without a word is a `PullProcessError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import pickle
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import httpx

from connectors import Close, ConnectorConfig, FetchResult, get_connector
from hub.catalogue.model import MissionDraft, Prepared, Refusal
from hub.catalogue.taxonomy import LabelMap
from hub.ingest.listed import ListedIds
from hub.ingest.pipeline import prepare

__all__ = ["PullJob", "PullProcess", "PullProcessError", "PulledBatch"]

logger = logging.getLogger("hub.ingest.pulling")

_JOIN_SECONDS = 10.0  # a child asked to stop (SIGTERM) that is still there is killed
_CHILD = "from hub.ingest.pulling import child_main; child_main({}, {})"


class PullProcessError(RuntimeError):
    """The pull's process ended without a result or an error of its own."""


@dataclass(frozen=True, slots=True)
class PullJob:
    """One pull, as the child needs it: nothing of the database, nothing of the runner."""

    connector: str
    config: ConnectorConfig
    state: dict[str, Any]
    batch_size: int
    labels: LabelMap
    listed: str  # the file for the ids the pull lists (hub.ingest.listed), the child's to write


@dataclass(slots=True)
class PulledBatch:
    """One batch as the writer takes it, with what the runner keeps of the pull beside it."""

    items: list[Prepared | Refusal | Close] = field(default_factory=list)
    records: int = 0  # records read


# --------------------------------------------------------------------------------------------
# The child


def _portable(exc: BaseException) -> BaseException:
    """`exc` if it survives pickling both ways, else a PullProcessError that names it."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return PullProcessError(f"{type(exc).__name__}: {exc}")
    return exc


class _Child:
    def __init__(self, job: PullJob, out: Connection, inbox: Connection) -> None:
        self.job = job
        self.out = out
        self.inbox = inbox
        self.labels = job.labels

    def send(self, message: tuple[str, Any]) -> None:
        self.out.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def latest_labels(self) -> LabelMap:
        """The last label map the writing side sent, if it sent any since."""
        while self.inbox.poll():
            self.labels = pickle.loads(self.inbox.recv_bytes())
        return self.labels

    def prepared(self, outcomes: list[MissionDraft | Refusal | Close], batch: PulledBatch) -> None:
        """Send `batch` with `outcomes` through `prepare`."""
        labels = self.latest_labels()
        batch.items = [
            prepare(item, labels) if isinstance(item, MissionDraft) else item for item in outcomes
        ]
        self.send(("batch", batch))

    async def pull(self) -> FetchResult | None:
        """The pull, its ids written to the job's file and the file closed when it returns."""
        job = self.job
        connector = get_connector(job.connector)(job.config)
        outcomes: list[MissionDraft | Refusal | Close] = []
        with ListedIds(job.listed) as listed:
            async with (
                httpx.AsyncClient() as http,
                connector.run(http, job.state, seen=listed.delivered) as run,
            ):
                async for outcome in run:
                    if isinstance(outcome, Refusal):
                        listed.refuse(outcome.external_id)
                    outcomes.append(outcome)
                    if len(outcomes) >= job.batch_size:
                        self.prepared(outcomes, PulledBatch(records=len(outcomes)))
                        outcomes = []
                if outcomes:
                    self.prepared(outcomes, PulledBatch(records=len(outcomes)))
                return run.result


def child_main(out_fd: int, in_fd: int) -> None:
    """The child's entry point: `python -c "from hub.ingest.pulling import child_main; ..."`
    with the two pipes' ends it was given; the job is the first message it reads."""
    out, inbox = Connection(out_fd, readable=False), Connection(in_fd, writable=False)
    child = _Child(pickle.loads(inbox.recv_bytes()), out, inbox)
    try:
        result = asyncio.run(child.pull())
    except BaseException as exc:
        trace = "".join(traceback.format_exception(exc))
        with contextlib.suppress(OSError):  # the writing side is gone: nobody to tell
            child.send(("error", (_portable(exc), trace)))
        return
    with contextlib.suppress(OSError):
        child.send(("done", result))


# --------------------------------------------------------------------------------------------
# The writing side


class PullProcess:
    """The child of one pull, seen from the sync: `async with PullProcess(job) as pull`, then
    `await pull.next()` until it returns the pull's `FetchResult` (None: the pull did not run
    to the end); `pull.labels(map)` hands a newly read label map to the batches still to
    prepare. Leaving the block stops the child if it still runs."""

    def __init__(self, job: PullJob) -> None:
        self.job = job
        self._sent_labels = job.labels
        self._process: subprocess.Popen[bytes] | None = None
        self._from_child: Connection | None = None
        self._to_child: Connection | None = None
        self._pending: asyncio.Future[bytes | None] | None = None

    async def __aenter__(self) -> PullProcess:
        from_child, child_out = os.pipe()
        child_in, to_child = os.pipe()
        # The child sees the modules this process sees (a checkout put on sys.path included).
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", _CHILD.format(child_out, child_in)],
                pass_fds=(child_out, child_in),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        except BaseException:
            for fd in (from_child, child_out, child_in, to_child):
                os.close(fd)
            raise
        os.close(child_out)  # ours closed: the child's ends of the pipes are the child's alone,
        os.close(child_in)  # so that its death reads as the end of the pipe
        self._process = process
        self._from_child = Connection(from_child, writable=False)
        self._to_child = Connection(to_child, readable=False)
        self._to_child.send_bytes(pickle.dumps(self.job, protocol=pickle.HIGHEST_PROTOCOL))
        self._pending = self._receive()
        return self

    @property
    def pid(self) -> int | None:
        """The child's process id, while it is this object's."""
        return self._process.pid if self._process is not None else None

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _receive(self) -> asyncio.Future[bytes | None]:
        """The child's next message, read by a thread (None: the pipe ended)."""
        conn = self._from_child
        assert conn is not None

        def recv() -> bytes | None:
            try:
                return conn.recv_bytes()
            except (EOFError, OSError):
                return None

        return asyncio.get_running_loop().run_in_executor(None, recv)

    async def next(self) -> PulledBatch | FetchResult | None:
        """The next prepared batch, or the pull's result once it ended; raises what the child
        raised."""
        assert self._pending is not None, "use PullProcess in `async with`"
        data = await self._pending
        self._pending = None
        if data is None:
            code = await self._exit_code()
            raise PullProcessError(f"the pull's process ended without a result (exit code {code})")
        kind, payload = pickle.loads(data)
        if kind == "batch":
            self._pending = self._receive()  # the next one is received while this is written
            assert isinstance(payload, PulledBatch)
            return payload
        if kind == "done":
            assert payload is None or isinstance(payload, FetchResult)
            return payload
        error, trace = payload
        logger.debug("the pull's process failed:\n%s", trace)
        raise error

    def labels(self, labels: LabelMap) -> None:
        """Prepare the batches not yet prepared with `labels`, if they differ from the last."""
        if labels == self._sent_labels or self._to_child is None:
            return
        self._sent_labels = labels
        with contextlib.suppress(OSError):  # the child ended: no batch left to prepare
            self._to_child.send_bytes(pickle.dumps(labels, protocol=pickle.HIGHEST_PROTOCOL))

    async def _exit_code(self) -> int | None:
        process = self._process
        if process is None:
            return None
        wait = functools.partial(_wait, process, _JOIN_SECONDS)
        return await asyncio.get_running_loop().run_in_executor(None, wait)

    async def stop(self) -> None:
        """Stop the child if it still runs (by its own handle), and close the pipes."""
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            if await self._exit_code() is None:
                process.kill()
                await self._exit_code()
        elif process is not None:
            await self._exit_code()
        if self._pending is not None:
            with contextlib.suppress(Exception):
                await self._pending  # the pipe is closed or ended: the thread returns
            self._pending = None
        for conn in (self._from_child, self._to_child):
            if conn is not None:
                conn.close()
        self._process = None
        self._from_child = self._to_child = None


def _wait(process: subprocess.Popen[bytes], seconds: float) -> int | None:
    try:
        return process.wait(seconds)
    except subprocess.TimeoutExpired:
        return None
