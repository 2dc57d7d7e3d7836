// Wall-clock-sensitive multi-process scenarios (DDS between processes at 500 Hz) on a shared 2-core VM:
// a stall of a second or more now and then starves every process alike and fails them for reasons that
// say nothing about the code. Such a scenario gets one more try; it fails when both tries fail, and the
// first failure is printed either way.
export async function twice(name: string, scenario: () => Promise<void> | void): Promise<void> {
  try {
    await scenario();
  } catch (err) {
    console.log(`# ${name}: first try failed, trying once more: ${String((err as Error).message ?? err).split("\n")[0]}`);
    await scenario();
  }
}
