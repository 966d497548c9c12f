"""Unitree G1 low-level messages (``unitree_hg`` ``LowState_``/``LowCmd_``) to and from NumPy.

Motor index = SDK joint order (genmimic.core ``JOINT_NAMES``) for the first 29 of 35 slots. The IMU
quaternion is wxyz, gyroscope [rad/s] and accelerometer [m/s^2] in the pelvis IMU frame.
"""

from __future__ import annotations

import ctypes
from typing import NamedTuple

import numpy as np
from unitree_sdk2py.idl.default import unitree_hg_msg_dds__LowCmd_, unitree_hg_msg_dds__LowState_
from unitree_sdk2py.idl.unitree_hg.msg.dds_ import LowCmd_, LowState_
from unitree_sdk2py.utils.crc import CRC

from genmimic.core import g1_constants as g1

NUM_MOTORS = 35  #: slots in the messages; the G1 29-DoF uses the first 29
MOTOR_ENABLE = 1
TOPIC_STATE = "rt/lowstate"
TOPIC_CMD = "rt/lowcmd"

_crc = CRC()

# ``LowState_`` as the CRC sees it (little-endian, 4-byte aligned, 2092 bytes; the CRC is a CRC-32 over
# the 32-bit words before the ``crc`` field, Unitree's routine in the SDK's ``crc`` library). Packing it
# from NumPy arrays takes ~0.05 ms where the SDK's field-by-field packing takes ~1 ms, which was most of
# the simulator's time at 500 states per second.
_MOTOR_STATE = np.dtype([("mode", "u1"), ("_pad", "V3"), ("q_dq_ddq_tau", "<f4", (4,)), ("temperature", "<i2", (2,)),
                         ("vol", "<f4"), ("sensor_state_reserve", "<u4", (7,))])
_LOW_STATE = np.dtype([("version", "<u4", (2,)), ("mode_pr", "u1"), ("mode_machine", "u1"), ("_pad", "V2"),
                       ("tick", "<u4"), ("imu", "<f4", (13,)), ("imu_temperature", "<i2"), ("_pad2", "V2"),
                       ("motor", _MOTOR_STATE, (NUM_MOTORS,)), ("wireless_remote", "u1", (40,)),
                       ("reserve", "<u4", (4,)), ("crc", "<u4")])
assert _LOW_STATE.itemsize == 2092 and _MOTOR_STATE.itemsize == 56


def _low_state_crc(state: RobotState) -> int:
    """The CRC ``msg_from_state(state)`` must carry (only the fields it sets are non-zero)."""
    rec = np.zeros((), _LOW_STATE)
    rec["mode_machine"], rec["tick"] = int(state.mode_machine), int(state.tick) & 0xFFFFFFFF
    rec["imu"][:10] = np.concatenate([state.imu_quat, state.gyro, state.acc])
    motors = rec["motor"]
    motors["mode"][: g1.NUM_DOF] = MOTOR_ENABLE
    motors["q_dq_ddq_tau"][: g1.NUM_DOF] = np.stack([state.q, state.dq, np.zeros(g1.NUM_DOF), state.tau], -1)
    words = np.frombuffer(rec.tobytes(), "<u4")[:-1].copy()
    return int(_crc.crc_lib.crc32_core(words.ctypes.data_as(ctypes.POINTER(ctypes.c_uint32)), len(words)))


class RobotState(NamedTuple):
    """What ``rt/lowstate`` says about the robot. q, dq, tau (29,) in SDK order [rad, rad/s, Nm];
    imu_quat (4,) wxyz; gyro (3,) [rad/s]; acc (3,) [m/s^2]; tick [ms]; mode_machine."""

    q: np.ndarray
    dq: np.ndarray
    tau: np.ndarray
    imu_quat: np.ndarray
    gyro: np.ndarray
    acc: np.ndarray
    tick: int
    mode_machine: int


class Command(NamedTuple):
    """Joint-space PD command, SDK order (29,): targets q [rad], dq [rad/s], feed-forward tau [Nm], gains."""

    q: np.ndarray
    dq: np.ndarray
    tau: np.ndarray
    kp: np.ndarray
    kd: np.ndarray


def state_from_msg(msg: LowState_) -> RobotState:
    motors = msg.motor_state[: g1.NUM_DOF]
    return RobotState(
        q=np.array([m.q for m in motors]), dq=np.array([m.dq for m in motors]),
        tau=np.array([m.tau_est for m in motors]), imu_quat=np.array(msg.imu_state.quaternion, float),
        gyro=np.array(msg.imu_state.gyroscope, float), acc=np.array(msg.imu_state.accelerometer, float),
        tick=int(msg.tick), mode_machine=int(msg.mode_machine),
    )


def msg_from_state(state: RobotState) -> LowState_:
    """A ``LowState_`` (with a valid CRC) as the robot would publish it."""
    msg = unitree_hg_msg_dds__LowState_()
    msg.tick, msg.mode_machine = int(state.tick) & 0xFFFFFFFF, int(state.mode_machine)
    msg.imu_state.quaternion = [float(v) for v in state.imu_quat]
    msg.imu_state.gyroscope = [float(v) for v in state.gyro]
    msg.imu_state.accelerometer = [float(v) for v in state.acc]
    for i in range(g1.NUM_DOF):
        m = msg.motor_state[i]
        m.mode, m.q, m.dq, m.tau_est = MOTOR_ENABLE, float(state.q[i]), float(state.dq[i]), float(state.tau[i])
    msg.crc = _low_state_crc(state) if hasattr(_crc, "crc_lib") else _crc.Crc(msg)
    return msg


def msg_from_command(cmd: Command, mode_machine: int) -> LowCmd_:
    """A ``LowCmd_`` for the 29 joints with a valid CRC (the robot drops commands whose CRC is wrong)."""
    msg = unitree_hg_msg_dds__LowCmd_()
    msg.mode_pr, msg.mode_machine = 0, int(mode_machine)
    for i in range(g1.NUM_DOF):
        m = msg.motor_cmd[i]
        m.mode, m.q, m.dq, m.tau = MOTOR_ENABLE, float(cmd.q[i]), float(cmd.dq[i]), float(cmd.tau[i])
        m.kp, m.kd = float(cmd.kp[i]), float(cmd.kd[i])
    msg.crc = _crc.Crc(msg)
    return msg


def command_from_msg(msg: LowCmd_) -> Command:
    motors = msg.motor_cmd[: g1.NUM_DOF]
    enabled = np.array([m.mode == MOTOR_ENABLE for m in motors])
    return Command(
        q=np.array([m.q for m in motors]), dq=np.array([m.dq for m in motors]),
        tau=np.where(enabled, [m.tau for m in motors], 0.0), kp=np.where(enabled, [m.kp for m in motors], 0.0),
        kd=np.where(enabled, [m.kd for m in motors], 0.0),
    )


def crc_ok(msg: LowCmd_ | LowState_) -> bool:
    """Whether the message's CRC matches its contents."""
    return int(msg.crc) == int(_crc.Crc(msg))
