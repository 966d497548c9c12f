"""The batch driver (:func:`run_batch`) and the worker pools it runs on: Ray actors, or local processes.

One driver loop serves both pools: it hands one input at a time to each worker (a :class:`~.batch.Worker`
built once per process), kills a worker whose input runs past ``timeout_s`` and starts a fresh one, records
an input whose worker died (killed, out of memory, crashed) as failed with the reason, and appends every
record to the manifest as it arrives, so a crash or Ctrl-C loses only the inputs in flight.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections import Counter, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from genmimic.core.errors import GenMimicError

from .batch import (
    DEFAULT_OPTIONS,
    BatchInput,
    BatchOptions,
    BatchRecord,
    Worker,
    append_manifest,
    clear_outputs,
    completed,
    failed,
    one_line,
    read_manifest,
)

BACKENDS = ("auto", "ray", "local")
POLL_S = 0.1  #: [s] how often the driver looks at its workers


class Event(NamedTuple):
    """What a pool reports about the worker in ``slot``: ``kind`` "ready" (``pid``), "done" (``record``) or
    "died" (``reason``: one line)."""

    slot: int
    kind: str
    pid: int | None = None
    record: BatchRecord | None = None
    reason: str | None = None


class Pool(Protocol):
    """Worker processes in numbered slots, one input at a time each."""

    name: str
    size: int

    def start(self, slot: int) -> None:
        """Start a worker in ``slot`` (it reports "ready" when built)."""

    def submit(self, slot: int, task: BatchInput, attempt: int) -> None:
        """Give ``task`` to the ready worker in ``slot``."""

    def poll(self, timeout: float) -> list[Event]:
        """What happened since the last call, waiting up to ``timeout`` [s] for something."""

    def kill(self, slot: int) -> None:
        """Kill the worker in ``slot`` (its later reports are dropped)."""

    def close(self) -> None:
        """Stop every worker."""


class BatchSummary(NamedTuple):
    """One run of :func:`run_batch`: ``records`` of the inputs run (in completion order), ``skipped``
    (names of inputs already complete), ``backend`` ("ray" or "local"), ``workers``, ``wall_s`` [s]."""

    records: tuple[BatchRecord, ...]
    skipped: tuple[str, ...]
    backend: str
    workers: int
    wall_s: float

    @property
    def failed(self) -> tuple[BatchRecord, ...]:
        return tuple(r for r in self.records if r.status != "done")


def _address_space_mb() -> float | None:
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmSize:"))
    except (OSError, StopIteration, ValueError):
        return None


def limit_memory(memory_mb: int | None) -> None:
    """Limit this (started) worker's address space to ``memory_mb`` MiB (RLIMIT_AS): past it, an input's
    allocations fail (MemoryError, a failed record) instead of the machine swapping. None: no limit.

    Set once the worker is built: a library whose import hits the limit can hang instead of failing.

    Raises:
        GenMimicError: the worker already uses more than ``memory_mb``.
    """
    if memory_mb is not None:
        import resource

        used = _address_space_mb()
        if used is not None and used > memory_mb:
            raise GenMimicError(f"--memory-mb {memory_mb} is less than the {used:.0f} MiB of address space a "
                                "started worker uses; raise it")
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-exitcode).name}"
    return f"exit code {exitcode}"


# ------------------------------------------------------------------------------------------- local pool
def _local_main(conn: Any, options: BatchOptions, out: str) -> None:
    """A local worker process: build the :class:`Worker`, then run the inputs ``conn`` (its own pipe to the
    driver) brings until told to stop (None) or the driver's end closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    try:
        worker = Worker(options)
        limit_memory(options.memory_mb)
    except BaseException as err:  # reported to the driver, which stops the batch
        with contextlib.suppress(BaseException):  # under a tight memory limit even this may fail: then the
            conn.send(Event(0, "died", reason=one_line(f"{type(err).__name__}: {err}")))  # driver sees the end
        os._exit(1)  # no interpreter teardown: under a memory limit a library's clean-up can spin forever
    try:
        conn.send(Event(0, "ready", pid=os.getpid()))
        while (item := conn.recv()) is not None:
            conn.send(Event(0, "done", pid=os.getpid(), record=worker.run(item[0], out, item[1])))
    except (EOFError, OSError):  # the driver is gone or stopped this worker
        pass
    os._exit(0)


class LocalPool:
    """Worker processes on this machine, spawned (so each builds its own MuJoCo, MediaPipe and policy state,
    and none inherits a lock held by a thread of the driver), each with a pipe of its own to the driver.

    No queue or pipe is shared between workers: a worker killed while it was writing (SIGKILL, the time
    limit, the OOM killer) leaves a lock held or half a message only in its own pipe, which goes with it.
    (With one shared result queue, the worker started next could wait forever for that queue's write lock.)
    """

    name = "local"

    def __init__(self, size: int, options: BatchOptions, out: Path) -> None:
        import multiprocessing

        self.size, self.options, self.out = size, options, str(out)
        self._ctx = multiprocessing.get_context("spawn")
        self._procs: list[Any] = [None] * size
        self._conns: list[Any] = [None] * size

    def start(self, slot: int) -> None:
        self.kill(slot)  # a worker that reported its death may still be exiting
        conn, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(target=_local_main, args=(child, self.options, self.out), daemon=True,
                                 name=f"genmimic-batch-{slot}")
        proc.start()
        child.close()  # the worker holds the only other end: its death reads as EOF here
        self._procs[slot], self._conns[slot] = proc, conn

    def submit(self, slot: int, task: BatchInput, attempt: int) -> None:
        with contextlib.suppress(OSError):  # the worker died: poll() reports it
            self._conns[slot].send((task, attempt))

    def _receive(self, slot: int) -> Event | None:
        """The next report of ``slot``'s worker, or None when its pipe ended (the worker died)."""
        try:
            return self._conns[slot].recv()._replace(slot=slot)
        except (EOFError, OSError):
            return None

    def poll(self, timeout: float) -> list[Event]:
        from multiprocessing.connection import wait

        live = {c: s for s, c in enumerate(self._conns) if c is not None}
        events, ended = [], []
        for conn in wait(list(live), timeout):
            slot = live[conn]
            while True:
                event = self._receive(slot)
                if event is not None:
                    events.append(event)
                if event is None or event.kind == "died":
                    ended.append(slot)
                    break
                if not conn.poll():
                    break
        for slot in ended:
            p = self._procs[slot]
            p.join(1)  # its pipe ended: the process is on its way out, let it give its own exit code
            self.kill(slot)  # one that reported its own death is on its way out
            if not any(e.slot == slot and e.kind == "died" for e in events):
                events.append(Event(slot, "died", reason=f"worker process {p.pid} died ({_death(p.exitcode)})"))
        return events

    def kill(self, slot: int) -> None:
        p, conn = self._procs[slot], self._conns[slot]
        self._procs[slot] = self._conns[slot] = None
        if conn is not None:
            conn.close()
        if p is not None:
            if p.is_alive():
                p.kill()
            p.join(5)

    def close(self) -> None:
        for conn in self._conns:
            if conn is not None:
                with contextlib.suppress(OSError):
                    conn.send(None)
        for slot, p in enumerate(self._procs):
            if p is not None:
                p.join(2)
            self.kill(slot)


# --------------------------------------------------------------------------------------------- Ray pool
class _RayWorker:
    """The Ray actor around a :class:`Worker` (built once per actor process)."""

    def __init__(self, options: BatchOptions) -> None:
        self.worker = Worker(options)
        limit_memory(options.memory_mb)

    def ready(self) -> int:
        return os.getpid()

    def run(self, task: BatchInput, out: str, attempt: int) -> BatchRecord:
        return self.worker.run(task, out, attempt)


class RayPool:
    """Ray actors, one CPU each (with ``memory_mb`` also given to Ray's scheduler as the actor's memory)."""

    name = "ray"

    def __init__(self, size: int, options: BatchOptions, out: Path) -> None:
        import ray

        self._ray = ray
        self.size, self.options, self.out = size, options, str(out)
        extra = {"memory": options.memory_mb * 2**20} if options.memory_mb else {}
        self._cls = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(_RayWorker).options(**extra)
        self._actors: list[Any] = [None] * size
        self._refs: dict[Any, tuple[int, str]] = {}

    def start(self, slot: int) -> None:
        actor = self._actors[slot] = self._cls.remote(self.options)
        self._refs[actor.ready.remote()] = (slot, "ready")

    def submit(self, slot: int, task: BatchInput, attempt: int) -> None:
        self._refs[self._actors[slot].run.remote(task, self.out, attempt)] = (slot, "done")

    def poll(self, timeout: float) -> list[Event]:
        if not self._refs:
            time.sleep(timeout)
            return []
        ray = self._ray
        ready, _ = ray.wait(list(self._refs), num_returns=1, timeout=timeout)
        if ready:
            ready, _ = ray.wait(list(self._refs), num_returns=len(self._refs), timeout=0)
        events = []
        for ref in ready:
            slot, kind = self._refs.pop(ref)
            try:
                value = ray.get(ref)
            except ray.exceptions.RayError as err:
                self._forget(slot)
                events.append(Event(slot, "died", reason=f"worker process died ({one_line(_ray_reason(err))})"))
                continue
            events.append(Event(slot, "ready", pid=value) if kind == "ready" else Event(slot, "done", record=value))
        return events

    def _forget(self, slot: int) -> None:
        for ref in [r for r, (s, _) in self._refs.items() if s == slot]:
            del self._refs[ref]
        self._actors[slot] = None

    def kill(self, slot: int) -> None:
        actor = self._actors[slot]
        self._forget(slot)
        if actor is not None:
            self._ray.kill(actor, no_restart=True)

    def close(self) -> None:
        for slot in range(self.size):
            self.kill(slot)


def _ray_reason(err: Exception) -> str:
    text = str(err)
    for line in text.splitlines():  # Ray's messages start with a generic line; the cause is further down
        if "exit" in line.lower() or "killed" in line.lower() or "Error:" in line:
            return line.strip()
    return text


# ----------------------------------------------------------------------------------------------- driver
def ray_available() -> bool:
    """Whether Ray can be imported (the ``genmimic-bench[ray]`` extra)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def choose_backend(backend: str, address: str | None) -> tuple[str, str | None]:
    """The pool to use ("ray" or "local") for ``backend`` ("auto", "ray", "local"), and a note to print
    when "auto" falls back to the local pool. Raises GenMimicError for Ray asked for and not installed."""
    if backend not in BACKENDS:
        raise GenMimicError(f"--backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "local":
        if address is not None:
            raise GenMimicError("--address is a Ray cluster's; it does not go with --backend local")
        return "local", None
    if ray_available():
        return "ray", None
    if backend == "ray" or address is not None:
        raise GenMimicError("Ray is not installed: pip install 'genmimic-bench[ray]' (or drop --backend ray/--address)")
    return "local", "Ray is not installed (pip install 'genmimic-bench[ray]'): running on a local process pool"


RAY_CONNECT_S = 5.0  #: [s] how long a Ray cluster address is given to answer before the batch gives up


def check_ray_address(address: str, timeout_s: float | None = None) -> None:
    """Raise GenMimicError unless something accepts a TCP connection at the Ray cluster ``address``
    ("HOST:PORT" of the head's GCS, "ray://HOST:PORT" of a Ray Client server, or "auto": the RAY_ADDRESS
    environment variable when set, else left to Ray, which says at once when no local cluster runs) within
    ``timeout_s`` [s] (default :data:`RAY_CONNECT_S`). Ray itself retries an unreachable address for
    minutes, printing warnings."""
    from genmimic.core.net import wait_for_listener

    timeout_s = RAY_CONNECT_S if timeout_s is None else timeout_s
    target = os.environ.get("RAY_ADDRESS", "") if address == "auto" else address
    if not target or target in ("auto", "local"):
        return
    host, sep, port = target.split("://", 1)[-1].rstrip("/").rpartition(":")
    if not sep or not host or not port.isdigit():
        raise GenMimicError(f"--address {address}: not a Ray cluster address; give HEAD_HOST:6379, "
                            "ray://HEAD_HOST:10001 or auto")
    err = wait_for_listener(host, int(port), timeout_s)
    if err is not None:
        raise GenMimicError(f"--address {address}: no Ray cluster answers at {host}:{port} within {timeout_s:g} s "
                            f"({err.strerror or err}); start one there (ray start --head) or fix the address")


@contextlib.contextmanager
def _ray_session(address: str | None, workers: int | None):
    """Ray connected (to ``address``, or a local instance with ``workers`` CPUs); the number of workers to
    run (``workers`` or every CPU Ray offers). A session this call started is shut down at the end.

    Raises GenMimicError for an ``address`` Ray refuses."""
    import ray

    started = not ray.is_initialized()
    if started:
        kwargs: dict[str, Any] = {"address": address} if address else {"num_cpus": workers or os.cpu_count()}
        try:
            ray.init(include_dashboard=False, log_to_driver=False, logging_level="ERROR", **kwargs)
        except (ConnectionError, ValueError, RuntimeError) as err:
            if address is None:
                raise
            raise GenMimicError(f"--address {address}: Ray could not connect ({one_line(str(err))})") from None
    try:
        yield workers or max(1, int(ray.available_resources().get("CPU", 1)))
    finally:
        if started:
            ray.shutdown()


class _Slot:
    __slots__ = ("attempt", "deadline", "failures", "pid", "state", "task")

    def __init__(self) -> None:
        self.state, self.pid, self.task, self.attempt, self.failures = "starting", None, None, 0, 0
        self.deadline: float | None = None


def run_batch(inputs: list[BatchInput], out: str | os.PathLike[str], options: BatchOptions = DEFAULT_OPTIONS, *,
              workers: int | None = None, backend: str = "auto", address: str | None = None,
              progress: Callable[[int, int, int], None] | None = None,
              on_start: Callable[[BatchInput, int], None] | None = None) -> BatchSummary:
    """Run every input not yet complete in ``out`` (see :mod:`genmimic.bench.batch`) on ``workers``
    processes (default: every core, or every CPU of the Ray cluster at ``address``).

    ``progress(done, failed, running)`` is called as inputs start and end; ``on_start(task, worker_pid)``
    when an input is handed to a worker. Failures are records, never exceptions.

    Raises:
        GenMimicError: the tracker cannot be built, Ray is asked for and not installed, no Ray cluster
            answers at ``address``, or workers cannot start (for example under a ``memory_mb`` too small
            for one).
    """
    from .runner import TrackerOptions, make_tracker

    out = Path(out)
    start = time.perf_counter()
    kind, _ = choose_backend(backend, address)
    if kind == "ray" and address is not None:
        check_ray_address(address)  # in seconds, not Ray's minutes of retries; before anything is written
    make_tracker(options.method, TrackerOptions(policy=options.policy))  # a bad method or policy: before any work
    out.mkdir(parents=True, exist_ok=True)
    attempts = Counter(r.input for r in read_manifest(out))
    skipped = tuple(t.name for t in inputs if completed(out, t) is not None)
    todo = deque(t for t in inputs if t.name not in skipped)
    records: list[BatchRecord] = []
    if not todo:
        return BatchSummary((), skipped, kind, 0, time.perf_counter() - start)
    session = _ray_session(address, workers) if kind == "ray" else contextlib.nullcontext(workers or os.cpu_count())
    with session as size:
        size = max(1, min(int(size or 1), len(todo)))
        pool: Pool = RayPool(size, options, out) if kind == "ray" else LocalPool(size, options, out)
        slots = [_Slot() for _ in range(size)]

        def finish(slot: _Slot, record: BatchRecord) -> None:
            if record.failed_stage == "worker":  # killed mid-input: what it wrote is listed nowhere
                clear_outputs(out / record.name)
            records.append(record)
            append_manifest(out, [record])
            slot.task = None

        def launch(i: int, failure: str | None = None) -> None:
            """(Re)start slot ``i``'s worker, unless nothing is left to run; ``failure``: why its last
            start failed (the batch stops at the second failure in a row)."""
            s = slots[i]
            if failure is not None:
                s.failures += 1
                if s.failures >= 2:
                    raise GenMimicError(f"batch workers cannot start: {failure}")
            elif not todo:
                s.state = "stopped"
                return
            s.state, s.deadline = "starting", time.monotonic() + options.startup_s
            pool.start(i)

        try:
            for i in range(size):
                launch(i)
            while todo or any(s.task is not None for s in slots):
                for i, s in enumerate(slots):
                    if s.state == "idle" and todo:
                        s.task, s.state = todo.popleft(), "busy"
                        attempts[s.task.path] += 1
                        s.attempt = attempts[s.task.path]
                        s.deadline = None if options.timeout_s is None else time.monotonic() + options.timeout_s
                        pool.submit(i, s.task, s.attempt)
                        if on_start is not None:
                            on_start(s.task, s.pid)
                if progress is not None:
                    progress(sum(r.status == "done" for r in records), sum(r.status != "done" for r in records),
                             sum(s.task is not None for s in slots))
                for e in pool.poll(POLL_S):
                    s = slots[e.slot]
                    if e.kind == "ready":
                        s.state, s.pid, s.failures = "idle", e.pid, 0
                    elif e.kind == "done" and s.task is not None:
                        finish(s, e.record)
                        s.state = "idle"
                    elif e.kind == "died":
                        starting = s.state == "starting"
                        if s.task is not None:
                            finish(s, failed(s.task, s.attempt, e.reason or "worker process died"))
                        launch(e.slot, e.reason if starting else None)
                now = time.monotonic()
                for i, s in enumerate(slots):
                    if s.deadline is None or now <= s.deadline or s.state not in ("starting", "busy"):
                        continue
                    pool.kill(i)
                    if s.state == "starting":
                        launch(i, f"no worker was ready within {options.startup_s:g} s")
                    else:
                        finish(s, failed(s.task, s.attempt, f"over the time limit of {options.timeout_s:g} s "
                                         "(--timeout-s); its worker was stopped"))
                        launch(i)
        finally:
            pool.close()
    return BatchSummary(tuple(records), skipped, kind, size, time.perf_counter() - start)
