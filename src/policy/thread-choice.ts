// Whether a native sampler call shares its candidates with the helper thread or runs alone. Which is faster
// depends on the machine at the moment, not on the code: two threads ran 1.3-1.5× faster where the two
// vCPUs were separate cores, and 5-15 % slower where the host put them on one core (docs/performance.md).
// Both give the same result bit for bit, so the sampler can simply keep to whichever has been faster lately:
// it times every call per candidate, keeps a moving average for each mode, and tries the other mode every
// `exploreEvery`-th call so that a change of the machine is noticed within seconds.

export class ThreadChoice {
  /** Moving averages of the time per candidate, ms: [alone, shared]; NaN until measured. */
  private readonly perCandidate = [Number.NaN, Number.NaN];
  private calls = 0;

  constructor(
    private readonly exploreEvery = 16,
    private readonly weight = 0.2,
  ) {}

  /** Whether sharing has been the faster mode (true until running alone has been measured). */
  get sharedIsFaster(): boolean {
    const [alone, shared] = this.perCandidate;
    return !(alone < shared);
  }

  /** Whether the next call should share its candidates with the helper. */
  next(): boolean {
    const explore = ++this.calls % this.exploreEvery === 0;
    return explore !== this.sharedIsFaster;
  }

  /** A finished call: whether it shared, how long it took, for how many candidates. */
  record(shared: boolean, ms: number, candidates: number): void {
    if (!(ms >= 0) || candidates < 1) return;
    const i = shared ? 1 : 0;
    const old = this.perCandidate[i];
    // A stalled call (the VM descheduled) counts as at most twice the average, so one stall cannot flip
    // the choice for long.
    const v = Number.isNaN(old) ? ms / candidates : Math.min(ms / candidates, 2 * old);
    this.perCandidate[i] = Number.isNaN(old) ? v : old + this.weight * (v - old);
  }

  /** The averages, ms per candidate (for the bench and tests). */
  get averages(): { alone: number; shared: number } {
    return { alone: this.perCandidate[0], shared: this.perCandidate[1] };
  }
}
