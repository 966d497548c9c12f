"""DDS through unitree_sdk2py: one participant per process, on a network interface and domain id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from unitree_sdk2py.core.channel import ChannelFactoryInitialize, ChannelPublisher, ChannelSubscriber

from .errors import DeployError

_connected: tuple[int, str] | None = None


def connect(domain: int = 0, interface: str = "lo") -> None:
    """Join DDS ``domain`` on ``interface`` (the robot is on domain 0; ``lo`` for the simulator).

    Raises:
        DeployError: the interface does not exist, or this process already joined another domain.
    """
    global _connected
    if _connected is not None:
        if _connected != (domain, interface):
            raise DeployError(f"already connected to domain {_connected[0]} on {_connected[1]}")
        return
    try:
        ChannelFactoryInitialize(domain, interface)
    except Exception as err:  # the SDK raises a bare Exception
        raise DeployError(f"cannot join DDS domain {domain} on interface {interface!r}: {err}") from None
    _connected = (domain, interface)


def publisher(topic: str, msg_type: Any) -> ChannelPublisher:
    pub = ChannelPublisher(topic, msg_type)
    pub.Init()
    return pub


def subscriber(topic: str, msg_type: Any, handler: Callable[[Any], None]) -> ChannelSubscriber:
    """Call ``handler(msg)`` from the SDK's reader thread for every message (queue of 1: latest wins)."""
    sub = ChannelSubscriber(topic, msg_type)
    sub.Init(handler, 1)
    return sub
