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


def initialize_distributed(coordinator: str | None = None, num_processes: int | None = None,
                           process_id: int | None = None) -> None:
    """Join a multi-host run (``jax.distributed.initialize``): ``coordinator`` "HOST:PORT" of process 0,
    the number of processes and this one's id; all None lets JAX find them on a cluster it knows (Slurm,
    TPU pods, Kubernetes with the right environment). Call it before any other JAX call."""
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes, process_id=process_id)


def training_mesh(backend: str, devices: str | int) -> Mesh | None:
    """The mesh training shards over: the ``mjx`` backend's ``devices`` when that is more than one device;
    None otherwise (the ``cpu`` backend, one device: nothing is placed, behaviour unchanged)."""
    if backend != "mjx":
        return None
    mesh = device_mesh(devices)
    return mesh if mesh.devices.size > 1 else None
