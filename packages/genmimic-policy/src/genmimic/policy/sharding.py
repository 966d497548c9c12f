"""Training over several devices: environments and the PPO batch split over a 1-D mesh of every local
device (``jax.sharding``), parameters replicated.

Arrays with an environment axis are placed with a :class:`~jax.sharding.NamedSharding` that splits that
axis over the mesh axis ``"envs"``; the jitted PPO update (:func:`genmimic.policy.ppo.make_update`) then runs
as one program over all devices (XLA's SPMD partitioner inserts the collectives), so the loss and its
gradient are means over the whole batch: the update equals the one-device update of the same batch up to
float reduction order (tested with two CPU devices, ``XLA_FLAGS=--xla_force_host_platform_device_count=2``).
Several hosts: call :func:`initialize_distributed` first in every process, then the mesh spans every
host's devices (``jax.devices()``).
"""

from __future__ import annotations

from typing import Any

import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .errors import PolicyError

ENV_AXIS = "envs"  #: the mesh axis environments (and the PPO batch) are split over


def device_mesh(devices: str | int = "all") -> Mesh:
    """A 1-D mesh named :data:`ENV_AXIS` over ``"all"`` devices (every host's, after
    :func:`initialize_distributed`) or the first ``devices`` of them (an int or a string of digits).

    Raises PolicyError for a count that is not in 1..len(jax.devices()) or an unknown string."""
    available = jax.devices()
    if isinstance(devices, str) and devices.isdigit():
        devices = int(devices)  # from a JSON config, where it is a string
    if devices == "all":
        chosen = available
    elif isinstance(devices, int) and not isinstance(devices, bool) and 1 <= devices <= len(available):
        chosen = available[:devices]
    else:
        raise PolicyError(f"devices must be \"all\" or a count from 1 to {len(available)} (found "
                          f"{len(available)} {available[0].platform} device(s)), got {devices!r}")
    return Mesh(chosen, (ENV_AXIS,))


def env_sharding(mesh: Mesh, env_axis: int, ndim: int) -> NamedSharding:
    """The sharding of an array of ``ndim`` dimensions whose axis ``env_axis`` is split over the mesh."""
    spec = [None] * ndim
    spec[env_axis] = ENV_AXIS
    return NamedSharding(mesh, PartitionSpec(*spec))


def shard_envs(tree: Any, mesh: Mesh, env_axis: int = 0) -> Any:
    """Every array of ``tree`` placed with axis ``env_axis`` split over the mesh (env state: axis 0; a
    rollout (T, N, ...): axis 1; scalars and arrays without that axis are replicated).

    Raises PolicyError when the number of environments is not a multiple of the devices."""
    n = mesh.devices.size

    def place(x: Any) -> Any:
        x = jax.numpy.asarray(x)
        if x.ndim <= env_axis:
            return jax.device_put(x, replicated(mesh))
        if x.shape[env_axis] % n:
            raise PolicyError(f"{x.shape[env_axis]} environments do not split over {n} devices: use a multiple "
                              f"of {n} (num_envs)")
        return jax.device_put(x, env_sharding(mesh, env_axis, x.ndim))

    return jax.tree.map(place, tree)


def replicated(mesh: Mesh) -> NamedSharding:
    """The sharding that keeps a whole copy on every device (parameters, optimiser state)."""
    return NamedSharding(mesh, PartitionSpec())


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Every array of ``tree`` copied to every device of the mesh."""
    return jax.device_put(tree, replicated(mesh))


def parse_coordinator(address: str) -> tuple[str, int]:
    """``(host, port)`` of a coordinator address "HOST:PORT" (``[v6addr]:PORT`` for IPv6).

    Raises PolicyError for a missing host or port, a port outside 1..65535, or a host name that does not
    resolve."""
    import socket

    host, sep, port = address.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise PolicyError(f"--coordinator must be HOST:PORT (process 0's host and a free port, e.g. "
                          f"node0:12355), got {address!r}")
    try:
        socket.getaddrinfo(host, int(port))
    except (OSError, UnicodeError) as err:
        raise PolicyError(f"--coordinator {address}: host {host!r} does not resolve ({err}); give process 0's "
                          "host name or IP address") from None
    return host, int(port)


def initialize_distributed(coordinator: str | None = None, num_processes: int | None = None,
                           process_id: int | None = None, timeout_s: int = 300) -> None:
    """Join a multi-host run (``jax.distributed.initialize``): ``coordinator`` "HOST:PORT" of process 0,
    the number of processes and this one's id (0..num_processes-1); all None lets JAX find them on a
    cluster it knows (Slurm, TPU pods, Kubernetes with the right environment). Call it before any other
    JAX computation. Every process waits up to ``timeout_s`` [s] for all of them to join.

    Raises:
        PolicyError: only some of the three given, a bad address (:func:`parse_coordinator`), a process
            count below 1 or an id outside 0..num_processes-1, process 0's port in use, no process 0
            listening at the address within ``timeout_s``, JAX already computing in this process, or the
            processes not all joining within ``timeout_s``.
    """
    given = (coordinator, num_processes, process_id)
    if any(v is None for v in given) and any(v is not None for v in given):
        raise PolicyError("--coordinator, --num-processes and --process-id go together: give all three "
                          "(or none on a cluster JAX detects)")
    if coordinator is not None:
        host, port = parse_coordinator(coordinator)
        if num_processes < 1:
            raise PolicyError(f"--num-processes must be at least 1, got {num_processes}")
        if not 0 <= process_id < num_processes:
            raise PolicyError(f"--process-id must be from 0 to {num_processes - 1} (--num-processes "
                              f"{num_processes}), got {process_id}")
        # JAX aborts the whole process (no exception) when it cannot reach the coordinator: check first
        if process_id == 0:
            _check_port_free(coordinator, port)
        else:
            _wait_for_coordinator(coordinator, host, port, timeout_s)
    try:
        jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                                   process_id=process_id, initialization_timeout=timeout_s)
    except (RuntimeError, ValueError) as err:  # jaxlib's XlaRuntimeError is a RuntimeError
        text = next((line.strip() for line in str(err).splitlines() if line.strip()), type(err).__name__)
        raise PolicyError(f"could not join the multi-host run at {coordinator or 'the detected cluster'} as "
                          f"process {process_id} of {num_processes}: {text[:300]}") from None


def _check_port_free(coordinator: str, port: int) -> None:
    """Raise PolicyError when process 0 cannot listen on ``port`` (in use, or not allowed)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("", port))
        except OSError as err:
            raise PolicyError(f"--coordinator {coordinator}: process 0 cannot listen on port {port} ({err.strerror}); "
                              "pick a free port and give it to every process") from None


def _wait_for_coordinator(coordinator: str, host: str, port: int, timeout_s: float) -> None:
    """Wait up to ``timeout_s`` [s] for process 0 to listen at ``host:port``; PolicyError when it does not."""
    from genmimic.core.net import wait_for_listener

    err = wait_for_listener(host, port, timeout_s, poll_s=0.5)
    if err is not None:
        raise PolicyError(f"--coordinator {coordinator}: nothing listens there after {timeout_s:g} s "
                          f"({err.strerror or err}); start process 0 on that host with the same --coordinator, "
                          "or fix the address")


def sum_over_devices(value: float) -> float:
    """The sum over every device of every process (after :func:`initialize_distributed`) of ``value``
    given by the process owning it: one all-reduce over the mesh of :func:`device_mesh` ("all"). Every
    process must call it; each gets the same total. With ``value`` 1 it counts the devices that took part,
    a cheap check that the processes can reach each other before a long compile."""
    mesh = device_mesh("all")
    local = [jax.device_put(jax.numpy.full((1,), value, jax.numpy.float32), d) for d in jax.local_devices()]
    array = jax.make_array_from_single_device_arrays((mesh.devices.size,), env_sharding(mesh, 0, 1), local)
    total = jax.jit(jax.numpy.sum, out_shardings=replicated(mesh))(array)
    return float(total.addressable_data(0))


def training_mesh(backend: str, devices: str | int) -> Mesh | None:
    """The mesh training shards over: the ``mjx`` backend's ``devices`` when that is more than one device;
    None otherwise (the ``cpu`` backend, one device: nothing is placed, behaviour unchanged)."""
    if backend != "mjx":
        return None
    mesh = device_mesh(devices)
    return mesh if mesh.devices.size > 1 else None


def process_count() -> int:
    """How many processes this run has (1 unless :func:`initialize_distributed` joined several)."""
    return jax.process_count()


def local_mesh(devices: str | int = "all") -> Mesh | None:
    """The mesh this process's own envs run on in a run of several processes: its local devices (all, or
    the first ``devices``) when more than one, else None (the env stays on its one device)."""
    local = jax.local_devices()
    n = len(local) if devices == "all" else min(int(devices), len(local))
    return Mesh(local[:n], (ENV_AXIS,)) if n > 1 else None


def global_batch(tree: Any, mesh: Mesh, env_axis: int) -> Any:
    """Every process's local arrays of ``tree`` as its part of one global array split over ``mesh`` (every
    process's devices) along ``env_axis`` (``jax.make_array_from_process_local_data``): process ``p``'s
    envs follow process ``p - 1``'s. Arrays without that axis must be equal on every process (replicated).
    Every process must call it with arrays of the same shapes."""
    import numpy as np

    def place(x: Any) -> Any:
        x = np.asarray(x)
        if x.ndim <= env_axis:
            return jax.make_array_from_process_local_data(replicated(mesh), x)
        return jax.make_array_from_process_local_data(env_sharding(mesh, env_axis, x.ndim), x)

    return jax.tree.map(place, tree)


def local_copy(tree: Any) -> Any:
    """Every (replicated) array of ``tree`` as this process's own copy on its first local device, the form
    the rollout's jitted policy reads without involving the other processes."""
    return jax.tree.map(lambda x: x.addressable_data(0) if isinstance(x, jax.Array) else x, tree)


def data_parallel_update(update: Any, state: Any, rollout: Any, bootstrap: Any, key: jax.Array,
                         mesh: Mesh) -> tuple[Any, Any]:
    """One PPO update (:func:`genmimic.policy.ppo.make_update`) over the global batch of a run of several
    processes: this process's ``rollout`` (T, N_local, ...) and ``bootstrap`` (N_local,) become its part of
    the (T, N_total) batch over ``mesh`` (:func:`global_batch`), the learner ``state`` and ``key`` (equal on
    every process) are replicated, and the jitted update runs as one program over every process's devices,
    so the loss and gradients are means over the whole batch: the update of one process with the
    processes' rollouts concatenated along the env axis, up to float reduction order. Returns the new state
    and the loss info as local copies (:func:`local_copy`), identical on every process. Every process must
    call it together."""
    import numpy as np

    state, key = jax.tree.map(lambda x: jax.make_array_from_process_local_data(
        replicated(mesh), np.asarray(x)),
                              (state, key))
    new, info = update(state, global_batch(rollout, mesh, 1), global_batch(bootstrap, mesh, 0), key)
    return local_copy(new), local_copy(info)


def params_digest(tree: Any) -> str:
    """SHA-256 (hex) of every array of ``tree`` (dtype, shape and bytes in leaf order): equal digests on
    every process of a run show they hold the same learner."""
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    for leaf in jax.tree.leaves(tree):
        leaf = np.asarray(leaf)
        digest.update(f"{leaf.dtype}{leaf.shape}".encode())
        digest.update(np.ascontiguousarray(leaf).tobytes())
    return digest.hexdigest()


def require_single_process(what: str) -> None:
    """Raise PolicyError naming ``what`` in a run of several processes (a phase that runs in one only)."""
    if jax.process_count() > 1:
        raise PolicyError(f"{what} runs in one process, but this run joined {jax.process_count()}: train the "
                          "teacher on several processes (--phase teacher), then run --phase student without "
                          "--coordinator")


def start_multihost(backend: str, coordinator: str, num_processes: int, process_id: int,
                    timeout_s: int = 300) -> str:
    """Join a multi-host training run (``genmimic-policy train --coordinator``) and check it: every
    process's devices take part in one all-reduce (:func:`sum_over_devices`). Returns a line to log.

    Raises:
        PolicyError: ``backend`` is not "mjx" (the cpu backend runs in one process), any error of
            :func:`initialize_distributed`, or an all-reduce that does not count every device.
    """
    if backend != "mjx":
        raise PolicyError(f"--coordinator needs the mjx backend (this run's config has backend {backend!r}; the "
                          "cpu backend runs in one process): set \"backend\": \"mjx\" in the --config file")
    initialize_distributed(coordinator, num_processes, process_id, timeout_s)
    counted = sum_over_devices(1.0)
    if counted != jax.device_count():
        raise PolicyError(f"the processes at {coordinator} do not agree: an all-reduce counted {counted:g} of "
                          f"{jax.device_count()} devices")
    return (f"process {jax.process_index()} of {jax.process_count()} joined {coordinator}: "
            f"{jax.local_device_count()} local of {jax.device_count()} devices")
