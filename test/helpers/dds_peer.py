"""An independent DDS peer for test/dds-peer.test.ts: the H1's side of rt/lowcmd and rt/lowstate, written
with the Python `cyclonedds` package (its own CDR and XTypes code, not the runtime's addon) and IDL
dataclasses written here from the unitree_go message definitions (LowCmd.msg, LowState.msg, ...).

It reads LowCmd, checks every frame as the robot would (the CRC recomputed here over the packed C layout
with its own struct format and its own crc32_core, the header, the motor modes, slot 9), and writes
LowState with known values (motor q by slot, IMU, a rising tick). Prints one JSON line when done.

  python dds_peer.py --domain N --seconds S --count N   (CYCLONEDDS_URI selects the interface)
Stops after --count commands, --seconds, or 1 s without a command once commands have come.
"""

import argparse
import json
import struct
import time
from dataclasses import dataclass, field

from cyclonedds.domain import DomainParticipant
from cyclonedds.idl import IdlStruct
from cyclonedds.idl import annotations as annotate
from cyclonedds.idl import types as t
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic


@dataclass
@annotate.final
class MotorCmd_(IdlStruct, typename="unitree_go.msg.dds_.MotorCmd_"):
    mode: t.uint8
    q: t.float32
    dq: t.float32
    tau: t.float32
    kp: t.float32
    kd: t.float32
    reserve: t.array[t.uint32, 3]


@dataclass
@annotate.final
class BmsCmd_(IdlStruct, typename="unitree_go.msg.dds_.BmsCmd_"):
    off: t.uint8
    reserve: t.array[t.uint8, 3]


@dataclass
@annotate.final
class LowCmd_(IdlStruct, typename="unitree_go.msg.dds_.LowCmd_"):
    head: t.array[t.uint8, 2]
    level_flag: t.uint8
    frame_reserve: t.uint8
    sn: t.array[t.uint32, 2]
    version: t.array[t.uint32, 2]
    bandwidth: t.uint16
    motor_cmd: t.array[MotorCmd_, 20]
    bms_cmd: BmsCmd_
    wireless_remote: t.array[t.uint8, 40]
    led: t.array[t.uint8, 12]
    fan: t.array[t.uint8, 2]
    gpio: t.uint8
    reserve: t.uint32
    crc: t.uint32


@dataclass
@annotate.final
class IMUState_(IdlStruct, typename="unitree_go.msg.dds_.IMUState_"):
    quaternion: t.array[t.float32, 4]
    gyroscope: t.array[t.float32, 3]
    accelerometer: t.array[t.float32, 3]
    rpy: t.array[t.float32, 3]
    temperature: t.uint8


@dataclass
@annotate.final
class MotorState_(IdlStruct, typename="unitree_go.msg.dds_.MotorState_"):
    mode: t.uint8
    q: t.float32
    dq: t.float32
    ddq: t.float32
    tau_est: t.float32
    q_raw: t.float32
    dq_raw: t.float32
    ddq_raw: t.float32
    temperature: t.uint8
    lost: t.uint32
    reserve: t.array[t.uint32, 2]


@dataclass
@annotate.final
class BmsState_(IdlStruct, typename="unitree_go.msg.dds_.BmsState_"):
    version_high: t.uint8
    version_low: t.uint8
    status: t.uint8
    soc: t.uint8
    current: t.int32
    cycle: t.uint16
    bq_ntc: t.array[t.uint8, 2]
    mcu_ntc: t.array[t.uint8, 2]
    cell_vol: t.array[t.uint16, 15]


@dataclass
@annotate.final
class LowState_(IdlStruct, typename="unitree_go.msg.dds_.LowState_"):
    head: t.array[t.uint8, 2]
    level_flag: t.uint8
    frame_reserve: t.uint8
    sn: t.array[t.uint32, 2]
    version: t.array[t.uint32, 2]
    bandwidth: t.uint16
    imu_state: IMUState_
    motor_state: t.array[MotorState_, 20]
    bms_state: BmsState_
    foot_force: t.array[t.int16, 4]
    foot_force_est: t.array[t.int16, 4]
    tick: t.uint32
    wireless_remote: t.array[t.uint8, 40]
    bit_flag: t.uint8
    adc_reel: t.float32
    temperature_ntc1: t.uint8
    temperature_ntc2: t.uint8
    power_v: t.float32
    power_a: t.float32
    fan_frequency: t.array[t.uint16, 4]
    reserve: t.uint32
    crc: t.uint32


# The 812-byte C layout, natural alignment: header, 20 x (mode, 3 pad, 5 floats, 3 words), bms, remote,
# led, fan, gpio, 1 pad, reserve, crc.
LOWCMD_FORMAT = "<4B2I2IH2x" + "B3x5f3I" * 20 + "4B" + "40B12B2BBx" + "2I"
assert struct.calcsize(LOWCMD_FORMAT) == 812
WEAK_SLOTS = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19}


def crc32_core(words):
    crc = 0xFFFFFFFF
    for word in words:
        for bit in range(31, -1, -1):
            top = crc & 0x80000000
            crc = (crc << 1) & 0xFFFFFFFF
            if top:
                crc ^= 0x04C11DB7
            if (word >> bit) & 1:
                crc ^= 0x04C11DB7
    return crc


def packed(cmd: LowCmd_) -> bytes:
    values = [*cmd.head, cmd.level_flag, cmd.frame_reserve, *cmd.sn, *cmd.version, cmd.bandwidth]
    for m in cmd.motor_cmd:
        values += [m.mode, m.q, m.dq, m.tau, m.kp, m.kd, *m.reserve]
    values += [cmd.bms_cmd.off, *cmd.bms_cmd.reserve, *cmd.wireless_remote, *cmd.led, *cmd.fan, cmd.gpio, cmd.reserve, cmd.crc]
    return struct.pack(LOWCMD_FORMAT, *values)


def problem(cmd: LowCmd_):
    if list(cmd.head) != [0xFE, 0xEF] or cmd.level_flag != 0xFF:
        return f"header {list(cmd.head)} level {cmd.level_flag}"
    words = struct.unpack("<203I", packed(cmd))
    if crc32_core(words[:202]) != cmd.crc:
        return f"crc 0x{cmd.crc:08x} != 0x{crc32_core(words[:202]):08x}"
    for slot, m in enumerate(cmd.motor_cmd):
        if slot == 9:
            if any([m.mode, m.q, m.dq, m.tau, m.kp, m.kd]):
                return "slot 9 not zero"
        elif m.mode not in (0, 0x01 if slot in WEAK_SLOTS else 0x0A):
            return f"slot {slot} mode {m.mode}"
    return None


def state(tick: int) -> LowState_:
    motors = [MotorState_(0, 0.1 + 0.01 * s, -0.5 + 0.02 * s, 0, 1.0 + s, 0, 0, 0, 30, 0, [0, 0]) for s in range(20)]
    imu = IMUState_([1.0, 0.0, 0.0, 0.0], [0.1, 0.2, 0.3], [0.0, 0.0, 9.81], [0.0, 0.0, 0.0], 40)
    bms = BmsState_(1, 2, 0, 90, 0, 3, [0, 0], [0, 0], [3700] * 15)
    return LowState_([0xFE, 0xEF], 0xFF, 0, [0, 0], [0, 0], 0, imu, motors, bms, [0] * 4, [0] * 4, tick, [0] * 40, 0, 0.0, 0, 0, 48.0, 1.0, [0] * 4, 0, 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--domain", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--count", type=int, default=100)
    a = ap.parse_args()
    dp = DomainParticipant(a.domain)
    reader = DataReader(dp, Topic(dp, "rt/lowcmd", LowCmd_))
    writer = DataWriter(dp, Topic(dp, "rt/lowstate", LowState_))
    print(json.dumps({"ready": True}), flush=True)
    result = {"received": 0, "accepted": 0, "problems": [], "first": None, "last": None}
    tick, end, next_state, last_cmd = 0, time.time() + a.seconds, 0.0, None
    while time.time() < end and result["received"] < a.count:
        if last_cmd is not None and time.time() - last_cmd > 1.0:
            break  # the node has stopped sending
        now = time.time()
        if now >= next_state:  # LowState at 200 Hz
            tick += 1
            writer.write(state(tick))
            next_state = now + 0.005
        for cmd in reader.take(16):
            result["received"] += 1
            last_cmd = time.time()
            p = problem(cmd)
            if p:
                if len(result["problems"]) < 5:
                    result["problems"].append(p)
                continue
            result["accepted"] += 1
            summary = {"mode": [m.mode for m in cmd.motor_cmd], "q": [m.q for m in cmd.motor_cmd], "kp": [m.kp for m in cmd.motor_cmd],
                       "kd": [m.kd for m in cmd.motor_cmd], "tau": [m.tau for m in cmd.motor_cmd], "crc": cmd.crc}
            result["first"] = result["first"] or summary
            result["last"] = summary
        time.sleep(0.001)
    result["ticks_written"] = tick
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
