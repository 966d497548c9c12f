"""``genmimic-core view``: an interactive 3D viewer of clips in the browser, built on viser.

Every clip given (SMPL, G1 clip, trajectory) is drawn on one timeline, side by side along y
(``spacing`` [m] apart): the SMPL human as capsules, the G1 from the project's model geometry
(:mod:`~genmimic.core.view_geometry`), and for a trajectory its reference (red) and achieved (blue)
keypoints joined by error lines coloured by size (green 0 to red at
:data:`~genmimic.core.tracking.STRICT_WINDOW_ERROR_M`). Controls: play/pause, time slider, speed, loop,
camera follow. A panel shows per-frame figures: keypoint error by body group
(:func:`~genmimic.core.frame_metrics.trajectory_errors`), foot contacts, the fall flag and the feasibility
verdict where a clip's ``meta`` carries one.

viser serves its own page (bundled in its wheel; nothing is fetched from the internet) on 127.0.0.1 unless
``host`` says otherwise. Needs ``pip install genmimic-core[view]``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .clips import G1Clip, SmplClip, Trajectory, load_clip
from .errors import GenMimicError
from .frame_metrics import FrameErrors, fall_event, trajectory_errors
from .tracking import STRICT_WINDOW_ERROR_M
from .view_geometry import Figure, g1_figure, smpl_figure

log = logging.getLogger(__name__)

_UNIT_SPHERE: tuple[np.ndarray, np.ndarray] | None = None
_COLOURS = {"smpl": (230, 170, 120), "g1": (170, 175, 190), "trajectory": (120, 150, 210)}


class ViewClip(NamedTuple):
    """A clip ready to draw: ``name``, ``kind`` ("smpl", "g1" or "trajectory"), ``fps`` [Hz], the posed
    ``figure``, ``root`` (T, 3) [m] (already offset), ``keypoints`` and ``reference`` (T, K, 3) or None,
    per-frame ``errors`` (trajectories), ``contacts`` (T, 2) or None, ``fall_frame`` (-1: none) and the
    ``verdict`` of a feasibility check found in its meta (or None)."""

    name: str
    kind: str
    fps: float
    figure: Figure
    root: np.ndarray
    keypoints: np.ndarray | None
    reference: np.ndarray | None
    errors: FrameErrors | None
    contacts: np.ndarray | None
    fall_frame: int
    verdict: str | None

    @property
    def num_frames(self) -> int:
        return len(self.root)

    def frame_at(self, t: float) -> int:
        """The frame shown at time ``t`` [s] (held at the last frame past the end)."""
        return int(min(max(round(t * self.fps), 0), self.num_frames - 1))


def _verdict(meta: dict[str, Any]) -> str | None:
    for key in ("feasibility", "verdict"):
        value = meta.get(key)
        if isinstance(value, dict) and "verdict" in value:
            return str(value["verdict"])
        if isinstance(value, str):
            return value
    return None


def prepare(clip: Any, name: str, offset: Sequence[float] = (0.0, 0.0, 0.0)) -> ViewClip:
    """A :class:`ViewClip` of a loaded clip, shifted by ``offset`` (3,) [m]."""
    off = np.asarray(offset, float)
    meta = clip.meta if isinstance(clip.meta, dict) else {}
    if isinstance(clip, SmplClip):
        joints = clip.joints + off
        return ViewClip(name, "smpl", clip.fps, smpl_figure(joints), joints[:, 0], None, None, None, None, -1,
                        _verdict(meta))
    if isinstance(clip, G1Clip):
        figure = g1_figure(clip.root_pos + off, clip.root_quat, clip.dof_pos)
        traj = isinstance(clip, Trajectory)
        fall = fall_event(clip) if traj else None
        return ViewClip(name, "trajectory" if traj else "g1", clip.fps, figure, clip.root_pos + off,
                        clip.keypoints + off, clip.reference_keypoints + off if traj else None,
                        trajectory_errors(clip) if traj else None, np.asarray(clip.contacts, bool),
                        fall.frame if fall else -1, _verdict(meta))
    raise GenMimicError(f"{name}: cannot show a {type(clip).__name__}")


def load_view_clips(paths: Sequence[str], spacing: float = 1.0) -> list[ViewClip]:
    """Load and prepare clips, the k-th moved ``k * spacing`` [m] along -y (left to right seen from the front).

    Raises:
        GenMimicError: a file is not a valid clip (one line naming the file and the problem).
    """
    if not paths:
        raise GenMimicError("no clip given: genmimic-core view CLIP.npz [CLIP.npz ...]")
    return [prepare(load_clip(p), str(p), (0.0, -k * spacing, 0.0)) for k, p in enumerate(paths)]


def error_colours(error: np.ndarray, full: float = STRICT_WINDOW_ERROR_M) -> np.ndarray:
    """RGB uint8 (..., 3) for errors [m]: green at 0, yellow at ``full``/2, red from ``full`` on."""
    x = np.clip(np.asarray(error, float) / full, 0.0, 1.0)[..., None]
    return (np.clip(np.concatenate([2 * x, 2 * (1 - x), 0 * x], -1), 0, 1) * 220).astype(np.uint8)


def panel_text(clips: Sequence[ViewClip], t: float) -> str:
    """The per-frame figures at time ``t`` [s], as Markdown."""
    lines = [f"**t = {t:.2f} s**", ""]
    for c in clips:
        i = c.frame_at(t)
        lines.append(f"**{c.name}** ({c.kind}, frame {i + 1}/{c.num_frames})")
        if c.errors is not None:
            e = c.errors
            lines.append(f"- keypoint error (root-relative): all {e.all[i] * 100:.1f} cm, hands "
                         f"{e.hands[i] * 100:.1f}, feet {e.feet[i] * 100:.1f}, head {e.head[i] * 100:.1f} cm")
        if c.contacts is not None:
            left, right = (("down" if v else "up") for v in c.contacts[i])
            lines.append(f"- feet: left {left}, right {right}")
        if c.kind == "trajectory":
            fell = c.fall_frame >= 0 and i >= c.fall_frame
            lines.append(f"- fall: {'**FALLEN** since ' + f'{c.fall_frame / c.fps:.2f} s' if fell else 'no'}")
        if c.verdict:
            lines.append(f"- feasibility: {c.verdict}")
        lines.append("")
    return "\n".join(lines)


def _unit_meshes() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Unit sphere, cylinder (radius 1, height 1 along z, centred) and cube (side 1): vertices, faces."""
    # sphere: a UV sphere
    n_lat, n_lon = 10, 16
    th = np.linspace(0, np.pi, n_lat + 1)
    ph = np.linspace(0, 2 * np.pi, n_lon, endpoint=False)
    v = np.stack([np.outer(np.sin(th), np.cos(ph)), np.outer(np.sin(th), np.sin(ph)),
                  np.outer(np.cos(th), np.ones_like(ph))], -1).reshape(-1, 3)
    f = []
    for i in range(n_lat):
        for j in range(n_lon):
            a, b = i * n_lon + j, i * n_lon + (j + 1) % n_lon
            c, d = a + n_lon, b + n_lon
            f += [(a, c, b), (b, c, d)]
    sphere = (v, np.array(f))
    # cylinder: side only (the capsules' end spheres close it)
    ring = np.stack([np.cos(ph), np.sin(ph)], -1)
    v = np.concatenate([np.c_[ring, -0.5 * np.ones(n_lon)], np.c_[ring, 0.5 * np.ones(n_lon)]])
    f = []
    for j in range(n_lon):
        a, b = j, (j + 1) % n_lon
        f += [(a, b, a + n_lon), (b, b + n_lon, a + n_lon)]
    cylinder = (v, np.array(f))
    corners = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    cube = (corners, np.array([t for a, b, c, d in quads for t in ((a, b, c), (a, c, d))]))
    return {"spheres": sphere, "cylinders": cylinder, "boxes": cube}


class Viewer:
    """The viser scene and controls for ``clips``; :meth:`show` draws a time, :meth:`run` plays until stopped.

    ``server`` is a ``viser.ViserServer`` (the caller owns and stops it)."""

    def __init__(self, server: Any, clips: Sequence[ViewClip]) -> None:
        self.server, self.clips = server, list(clips)
        self.duration = max((c.num_frames - 1) / c.fps for c in self.clips)
        self.rate = max(c.fps for c in self.clips)
        self._lock = threading.Lock()
        self._followed: np.ndarray | None = None
        scene, gui = server.scene, server.gui
        scene.set_up_direction("+z")
        scene.configure_environment_map(hdri=None)
        scene.add_light_ambient("/light/ambient", intensity=0.6)
        scene.add_light_directional("/light/sun", intensity=2.0, wxyz=(0.92, 0.2, 0.3, 0.0))
        scene.add_grid("/floor", width=20, height=20, cell_size=0.5, plane="xy")
        centre = np.mean([c.root[0] for c in self.clips], axis=0)
        server.initial_camera.look_at = (float(centre[0]), float(centre[1]), 0.8)
        server.initial_camera.position = (float(centre[0]) + 4.0, float(centre[1]) - 1.0, 1.6)
        meshes = _unit_meshes()
        self._handles: list[dict[str, Any]] = []
        for k, c in enumerate(self.clips):
            handles = {}
            for kind in ("cylinders", "spheres", "boxes"):
                prim = getattr(c.figure, kind)
                if prim.pos.shape[1] == 0:
                    continue
                v, f = meshes[kind]
                handles[kind] = scene.add_batched_meshes_simple(
                    f"/clip{k}/{kind}", v.astype(np.float32), f.astype(np.uint32), prim.wxyz[0], prim.pos[0],
                    batched_scales=prim.scale[0], batched_colors=_COLOURS[c.kind], lod="off")
            if c.reference is None and c.keypoints is not None:  # a G1 clip: its keypoints are the goal
                handles["keypoints"] = scene.add_point_cloud(f"/clip{k}/keypoints", c.keypoints[0],
                                                             (230, 60, 50), point_size=0.04)
            if c.reference is not None:
                handles["reference"] = scene.add_point_cloud(f"/clip{k}/reference", c.reference[0],
                                                             (230, 60, 50), point_size=0.04)
                handles["achieved"] = scene.add_point_cloud(f"/clip{k}/achieved", c.keypoints[0],
                                                            (60, 110, 230), point_size=0.04)
                handles["errors"] = scene.add_line_segments(
                    f"/clip{k}/errors", np.stack([c.reference[0], c.keypoints[0]], 1),
                    np.repeat(error_colours(np.linalg.norm(c.reference[0] - c.keypoints[0], axis=-1))[:, None],
                              2, 1), thickness=0.01)
            self._handles.append(handles)
        self.playing = gui.add_checkbox("play", True)
        self.time = gui.add_slider("time [s]", 0.0, round(self.duration, 3), round(1.0 / self.rate, 4), 0.0)
        self.speed = gui.add_dropdown("speed", ("0.25", "0.5", "1", "2"), initial_value="1")
        self.loop = gui.add_checkbox("loop", True)
        self.follow = gui.add_checkbox("camera follows the root", False)
        self.panel = gui.add_markdown(panel_text(self.clips, 0.0))
        self.time.on_update(lambda _: self.show(self.time.value))

    def show(self, t: float) -> None:
        """Draw every clip at time ``t`` [s] and update the panel."""
        with self._lock:
            for c, handles in zip(self.clips, self._handles, strict=True):
                i = c.frame_at(t)
                for kind in ("cylinders", "spheres", "boxes"):
                    if kind in handles:
                        prim = getattr(c.figure, kind)
                        h = handles[kind]
                        h.batched_positions, h.batched_wxyzs, h.batched_scales = prim.pos[i], prim.wxyz[i], \
                            prim.scale[i]
                if "keypoints" in handles:
                    handles["keypoints"].points = c.keypoints[i]
                if c.reference is not None:
                    handles["reference"].points = c.reference[i]
                    handles["achieved"].points = c.keypoints[i]
                    handles["errors"].points = np.stack([c.reference[i], c.keypoints[i]], 1)
                    handles["errors"].colors = np.repeat(error_colours(
                        np.linalg.norm(c.reference[i] - c.keypoints[i], axis=-1))[:, None], 2, 1)
            self.panel.content = panel_text(self.clips, t)
            root = self.clips[0].root[self.clips[0].frame_at(t)]
            if self.follow.value and self._followed is not None:
                # move each browser's camera with the first clip's root (horizontally), keeping its angle
                shift = np.array([*(root[:2] - self._followed[:2]), 0.0])
                for client in self.server.get_clients().values():
                    with client.atomic():
                        client.camera.look_at = np.asarray(client.camera.look_at) + shift
                        client.camera.position = np.asarray(client.camera.position) + shift
            self._followed = root

    def step(self, dt: float) -> None:
        """Advance the time slider by ``dt`` [s] of wall time (times the speed) when playing."""
        if not self.playing.value:
            return
        t = self.time.value + dt * float(self.speed.value)
        if t > self.duration:
            t = 0.0 if self.loop.value else self.duration
            if not self.loop.value:
                self.playing.value = False
        self.time.value = round(t, 4)  # on_update draws it

    def run(self, stop: threading.Event | None = None) -> None:
        """Play at the clips' frame rate until ``stop`` is set (or forever; Ctrl-C ends it)."""
        period = 1.0 / self.rate
        last = time.perf_counter()
        while stop is None or not stop.is_set():
            time.sleep(max(0.0, period - (time.perf_counter() - last)))
            now = time.perf_counter()
            self.step(now - last)
            last = now


def start_server(host: str = "127.0.0.1", port: int = 8080) -> Any:
    """A ``viser.ViserServer`` listening on ``host``:``port``.

    Raises:
        GenMimicError: viser is not installed, or the port cannot be opened."""
    try:
        import viser
    except ImportError:
        raise GenMimicError("the viewer needs viser: pip install 'genmimic-core[view]'") from None
    import contextlib
    import sys

    try:
        with contextlib.redirect_stdout(sys.stderr):  # viser's banner: stdout is for the URL
            server = viser.ViserServer(host=host, port=port, verbose=False)
        # no share button: it would relay the scene through an outside server
        server.gui.configure_theme(show_share_button=False)
        return server
    except OSError as err:
        raise GenMimicError(f"cannot listen on {host}:{port}: {err.strerror or err}; choose another --port") from None
