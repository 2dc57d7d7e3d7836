// The packed layouts the DDS addon exchanges (src/link/dds/layout.ts) against the C structs idlc generated
// (the addon's own offsetof/sizeof), LowState packing both ways, and the clear error without the addon.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DdsUnavailable, interfaceConfigXml, loadDds } from "../src/link/dds/binding.ts";
import { LOWSTATE_OFFSETS, LOWSTATE_SIZE, MOTOR_STATE_SIZE, packLowState, readPackedLowState, unpackLowState, WIRELESS_SIZE, packWireless, unpackWireless } from "../src/link/dds/layout.ts";
import { LOWCMD_OFFSETS, LOWCMD_SIZE } from "../src/link/unitree/lowcmd-layout.ts";
import { buildLowState } from "../src/link/unitree/lowstate.ts";
import { JOINT_SLOT } from "../src/link/unitree/slots.ts";
import { robotState } from "../src/sim/h1-sim.ts";
import { skipWithoutDds } from "./helpers/dds.ts";

const skip = skipWithoutDds();

test("the TypeScript layouts are the C structs idlc generated from native/dds/idl/unitree_go.idl", { skip }, () => {
  const dds = loadDds();
  const L = dds.layout();
  assert.deepEqual(L.LowCmd, { size: LOWCMD_SIZE, motor_cmd: LOWCMD_OFFSETS.motor_cmd, bms_cmd: LOWCMD_OFFSETS.bms_cmd, wireless_remote: LOWCMD_OFFSETS.wireless_remote, crc: LOWCMD_OFFSETS.crc });
  const O = LOWSTATE_OFFSETS;
  assert.deepEqual(L.LowState, {
    size: LOWSTATE_SIZE, imu_state: O.imu_state, motor_state: O.motor_state, motor_state_size: MOTOR_STATE_SIZE, bms_state: O.bms_state,
    foot_force: O.foot_force, tick: O.tick, wireless_remote: O.wireless_remote, power_v: O.power_v, crc: O.crc,
  });
  assert.deepEqual(L.WirelessController, { size: WIRELESS_SIZE, keys: 16 });
  assert.deepEqual(dds.typeNames(), {
    LowCmd: "unitree_go::msg::dds_::LowCmd_",
    LowState: "unitree_go::msg::dds_::LowState_",
    WirelessController: "unitree_go::msg::dds_::WirelessController_",
  });
  assert.equal(dds.ddsVersion.split(".").slice(0, 2).join("."), "0.10", "the H1's CycloneDDS series");
});

test("LowState packs and unpacks field for field; the fast reader takes joints by slot", () => {
  const s = robotState();
  s.q.forEach((_, j) => ((s.q[j] = 0.1 * j - 0.7), (s.dq[j] = 0.3 - 0.05 * j), (s.tauEst[j] = j)));
  s.imuQuat.set([0.9, 0.1, -0.2, 0.3]);
  s.imuGyro.set([1, 2, 3]);
  s.imuAcc.set([0, 0.5, 9.8]);
  const remote = new Uint8Array(40).map((_, i) => i + 1);
  const msg = buildLowState(s, 123456, remote);
  msg.bms_state.cell_vol = Array.from({ length: 15 }, (_, i) => 3600 + i);
  msg.foot_force = [-5, 6, -7, 8];
  msg.power_v = 48.5;
  msg.imu_state.temperature = -3;
  const bytes = packLowState(msg);
  const back = unpackLowState(bytes);
  assert.deepEqual(back, JSON.parse(JSON.stringify({ ...msg, power_v: Math.fround(48.5) })));
  assert.equal(new DataView(bytes.buffer).getUint32(LOWSTATE_OFFSETS.tick, true), 123456);
  const out = robotState();
  assert.equal(readPackedLowState(bytes, out), 123456);
  for (let j = 0; j < JOINT_SLOT.length; j++) {
    assert.equal(out.q[j], Math.fround(s.q[j]));
    assert.equal(out.q[j], back.motor_state[JOINT_SLOT[j]].q);
  }
  assert.deepEqual(Array.from(out.imuQuat), [0.9, 0.1, -0.2, 0.3].map(Math.fround));
  assert.deepEqual(unpackWireless(packWireless({ lx: 0.5, ly: -1, rx: 0.25, ry: 0, keys: 0x0304 })), { lx: 0.5, ly: -1, rx: 0.25, ry: 0, keys: 0x0304 });
});

test("without the addon the DDS link says what to install; interface names cannot inject XML", () => {
  assert.throws(() => loadDds("/nonexistent/h1_dds.node"), (e: Error) => e instanceof DdsUnavailable && /apt-get install cyclonedds-dev cyclonedds-tools/.test(e.message));
  assert.match(interfaceConfigXml("enp3s0"), /<NetworkInterface name="enp3s0"\/>/);
  assert.doesNotMatch(interfaceConfigXml("enp3s0"), /AllowMulticast/);
  assert.match(interfaceConfigXml("lo"), /<AllowMulticast>false<\/AllowMulticast>/);
  assert.throws(() => interfaceConfigXml('lo"/><x'), RangeError);
});
