"""A MuJoCo G1 (genmimic.core's model) that speaks the robot's DDS topics, for sim-to-sim checks.

It publishes ``rt/lowstate`` every physics step (500 Hz at dt 2 ms) and applies the latest ``rt/lowcmd``
with a valid CRC as the motors would: ``tau = kp (q* - q) + kd (dq* - dq) + tau_ff`` (MuJoCo position
actuators with the commanded gains, so the PD is integrated implicitly and stays stable on the light
wrists). The robot stands supported in the default pose until the first command arrives, like a robot
on its gantry. Physics follows the wall clock; it never runs ahead of it.

``pd_on_command`` emulates a PD that is computed only when a command arrives and held until the next
one (Unitree's Python simulator, ``unitree_mujoco/simulate_python``, does this): the torque
``kp (q* - q) + kd (dq* - dq) + tau_ff`` is evaluated with the state at arrival, clipped to the motors'
peak torque and applied unchanged until the next command. ``start_tilt_deg`` starts the robot tipped
forward by that angle (a robot that is down), ``mode_machine`` sets what it reports.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import mujoco
import numpy as np

from genmimic.core import g1_constants as g1
from genmimic.core.clips import save_clip
from genmimic.core.g1_kinematics import g1_clip_from_joints
from genmimic.core.g1_model import g1_mjcf, joint_dof_indices, joint_qpos_indices, load_mujoco_model
from genmimic.core.g1_revisions import G1_29DOF_REV_1_0
from genmimic.core.rotations import quat_multiply

from .messages import RobotState, command_from_msg, crc_ok, msg_from_state

log = logging.getLogger("genmimic.deploy.sim")
RECORD_FPS = 50.0


class G1Simulator:
    """The physics and the message conversion; DDS is attached by :func:`serve`."""

    def __init__(self, model_path: str | None = None, dt: float = 0.002, pd_on_command: bool = False,
                 mode_machine: int = G1_29DOF_REV_1_0.mode_machine, start_tilt_deg: float = 0.0) -> None:
        if model_path is None:
            self.model = mujoco.MjModel.from_xml_string(g1_mjcf(g1.HOLD_GAINS, timestep=dt))
        else:
            self.model = load_mujoco_model(model_path)
            self.model.opt.timestep = dt
        self.data = mujoco.MjData(self.model)
        mujoco.mj_resetDataKeyframe(self.model, self.data, self.model.key("home").id)
        if start_tilt_deg:
            half = np.deg2rad(start_tilt_deg) / 2  # about the pelvis y axis: tipped forward
            self.data.qpos[3:7] = quat_multiply(self.data.qpos[3:7], [np.cos(half), 0.0, np.sin(half), 0.0])
        mujoco.mj_forward(self.model, self.data)
        self.pd_on_command, self.mode_machine = pd_on_command, int(mode_machine)
        self.effort = np.array(G1_29DOF_REV_1_0.effort)
        self.qadr, self.vadr = joint_qpos_indices(self.model), joint_dof_indices(self.model)
        self.act = np.array([next(a for a in range(self.model.nu) if self.model.actuator_trnid[a, 0] == j)
                             for j in (self.model.joint(n).id for n in g1.JOINT_NAMES)])
        self._sensor = {name: self.model.sensor(name) for name in ("imu_quat", "imu_gyro", "imu_acc")}
        self.started = False
        self.bad_crc = 0
        self.commands = 0
        self.record: list[np.ndarray] = []

    def apply(self, msg) -> None:
        """Take a ``LowCmd_``: ignored (and counted) when its CRC is wrong, as the robot does."""
        if not crc_ok(msg):
            self.bad_crc += 1
            return
        cmd = command_from_msg(msg)
        m, d = self.model, self.data
        self.started = True
        self.commands += 1
        if self.pd_on_command:  # torque from the state now, held until the next command
            q, dq = d.qpos[self.qadr], d.qvel[self.vadr]
            tau = cmd.kp * (cmd.q - q) + cmd.kd * (cmd.dq - dq) + cmd.tau
            m.actuator_gainprm[self.act, 0] = 0.0
            m.actuator_biasprm[self.act, 1:3] = 0.0
            d.qfrc_applied[:] = 0.0
            d.qfrc_applied[self.vadr] = np.clip(tau, -self.effort, self.effort)
            return
        m.actuator_gainprm[self.act, 0] = cmd.kp
        m.actuator_biasprm[self.act, 1] = -cmd.kp
        m.actuator_biasprm[self.act, 2] = -cmd.kd
        d.ctrl[self.act] = cmd.q
        d.qfrc_applied[:] = 0.0
        d.qfrc_applied[self.vadr] = cmd.tau + cmd.kd * cmd.dq

    def step(self) -> None:
        if self.started:
            mujoco.mj_step(self.model, self.data)
            mujoco.mj_forward(self.model, self.data)  # sensors (the IMU) at the new state, not a step behind
            if len(self.record) == 0 or self.data.time >= len(self.record) / RECORD_FPS:
                self.record.append(self.data.qpos.copy())
        else:
            mujoco.mj_forward(self.model, self.data)

    def state(self) -> RobotState:
        d, s = self.data, self._sensor
        sensor = lambda x: d.sensordata[x.adr[0]: x.adr[0] + x.dim[0]].copy()  # noqa: E731
        tau = d.actuator_force[self.act].copy()
        return RobotState(q=d.qpos[self.qadr].copy(), dq=d.qvel[self.vadr].copy(), tau=tau,
                          imu_quat=sensor(s["imu_quat"]), gyro=sensor(s["imu_gyro"]), acc=sensor(s["imu_acc"]),
                          tick=round(d.time * 1000), mode_machine=self.mode_machine)

    def recorded_clip(self):
        """What the simulated robot did since the first command, as a G1 clip at 50 fps (None if < 2 frames)."""
        if len(self.record) < 2:
            return None
        q = np.array(self.record)
        return g1_clip_from_joints(q[:, :3], q[:, 3:7], q[:, self.qadr], RECORD_FPS,
                                   meta={"tool": "genmimic-deploy sim", "bad_crc": self.bad_crc})


def run_lockstep(sim: G1Simulator, controller, max_s: float, command_every: int | None = None) -> list:
    """Run ``controller`` (a :class:`~genmimic.deploy.controller.Controller`) against ``sim`` in one process,
    without DDS and without the wall clock: every control period the controller sees the simulator's state
    and its command goes through the same ``LowCmd_`` encoding (and CRC) as over DDS. Deterministic, so
    sim-to-sim checks do not depend on how busy the machine is.

    ``command_every``: physics steps between commands (default: one control period); with
    ``sim.pd_on_command`` a smaller value re-sends the latest command more often (``--command-hz``).
    Stops when the controller is done or after ``max_s`` [s] of simulated time. Returns the
    ``(state, command, step_info)`` of every control step.
    """
    from .messages import msg_from_command

    dt = sim.model.opt.timestep
    per_period = max(1, round(controller.period / dt))
    every = command_every or per_period
    steps: list = []
    msg = None
    for k in range(round(max_s / dt)):
        if controller.done:
            break
        if k % per_period == 0:
            state = sim.state()
            command, info = controller.step(state, 0.0)
            steps.append((state, command, info))
            msg = msg_from_command(command, state.mode_machine) if command is not None else None
            if msg is not None:
                sim.apply(msg)
        elif msg is not None and k % every == 0:
            sim.apply(msg)
        sim.step()
    return steps


def serve(sim: G1Simulator, duration: float | None = None, stop: threading.Event | None = None,
          record: Path | None = None) -> G1Simulator:
    """Publish state and apply commands over DDS (``dds.connect`` first) until ``duration`` [s] of wall
    time has passed or ``stop`` is set; then write the recording."""
    from unitree_sdk2py.idl.unitree_hg.msg.dds_ import LowCmd_, LowState_

    from .dds import publisher, subscriber
    from .messages import TOPIC_CMD, TOPIC_STATE

    lock = threading.Lock()
    pending: list = []

    def on_cmd(msg) -> None:
        with lock:
            pending[:] = [msg]

    pub = publisher(TOPIC_STATE, LowState_)
    sub = subscriber(TOPIC_CMD, LowCmd_, on_cmd)
    dt = sim.model.opt.timestep
    start = time.perf_counter()
    sim_time0 = 0.0
    try:
        while duration is None or time.perf_counter() - start < duration:
            if stop is not None and stop.is_set():
                break
            with lock:
                msg = pending.pop() if pending else None
            if msg is not None:
                sim.apply(msg)
                if sim.commands == 1:
                    sim_time0 = time.perf_counter() - sim.data.time
            # physics follows the wall clock (at most 10 steps at once when behind)
            target = time.perf_counter() - sim_time0 if sim.started else 0.0
            for _ in range(10):
                sim.step()
                if not sim.started or sim.data.time >= target:
                    break
            pub.Write(msg_from_state(sim.state()))
            time.sleep(max(0.0, dt - (time.perf_counter() - start) % dt))
    finally:
        sub.Close()
        pub.Close()
        if record is not None:
            clip = sim.recorded_clip()
            if clip is not None:
                save_clip(clip, record)
            else:
                log.warning("nothing recorded (no command arrived): %s not written", record)
    return sim
