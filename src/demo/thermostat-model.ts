// A simulated thermostat, advanced one reading interval at a time. All randomness comes
// from a seeded PRNG drawn a fixed number of times per step, so the same seed and the same
// number of steps give the same readings, whatever the wall clock does.
//
// Episodes are shaped for the demo rules (demo/rules.yaml): overheats hold the temperature
// above setpoint + 4 for minutes (too-hot fires, then clears on the way down), error bursts
// raise the error frequency steadily (errors-accelerating), and silences last longer than
// the offline threshold (device-offline fires, clears when readings resume).

export type Mode = 'normal' | 'overheat' | 'errors' | 'silent';

export interface ThermostatAttrs {
  type: 'thermostat';
  owner: string;
  setpoint: number;
}

export interface Reading {
  temperature: number;
  humidity: number;
  /** Error events (value 1 each) raised during this step. */
  errors: number;
}

export interface EpisodeRates {
  /** Chance per second, in normal mode, of starting each kind of episode. */
  overheatPerSec: number;
  errorsPerSec: number;
  silentPerSec: number;
}

export const DEFAULT_EPISODE_RATES: EpisodeRates = {
  overheatPerSec: 1 / 900,
  errorsPerSec: 1 / 1200,
  silentPerSec: 1 / 1500,
};

const OWNERS = ['ann', 'bob', 'chen', 'dara', 'eli', 'fatima', 'gus', 'hana', 'ivan', 'jo'];

/** mulberry32: tiny, fast and good enough to make a fleet look alive. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class ThermostatModel {
  readonly attrs: ThermostatAttrs;
  private readonly rand: () => number;
  private mode: Mode = 'normal';
  /** Seconds into the current episode, and its planned length. */
  private elapsed = 0;
  private length = 0;
  private peak = 0;
  private temperature: number;
  private humidity: number;
  private phase: number;

  constructor(
    seed: number,
    private readonly rates: EpisodeRates = DEFAULT_EPISODE_RATES,
  ) {
    this.rand = seededRandom(seed);
    this.attrs = {
      type: 'thermostat',
      owner: OWNERS[Math.floor(this.rand() * OWNERS.length)]!,
      setpoint: 68 + Math.floor(this.rand() * 7),
    };
    this.temperature = this.attrs.setpoint + (this.rand() - 0.5);
    this.humidity = 35 + this.rand() * 15;
    this.phase = this.rand() * Math.PI * 2;
  }

  get currentMode(): Mode {
    return this.mode;
  }

  /**
   * Advances `dtSec` seconds. Returns the reading, or null while the device is silent.
   * `setpoint` is the device's current setpoint (it may have been changed through the API).
   */
  step(dtSec: number, setpoint: number = this.attrs.setpoint): Reading | null {
    // Fixed draws per step keep the sequence independent of which branch runs.
    const rEpisode = this.rand();
    const rKind = this.rand();
    const rLength = this.rand();
    const rNoise = this.rand();
    const rHum = this.rand();
    const rErr = this.rand();

    this.elapsed += dtSec;
    if (this.mode !== 'normal' && this.elapsed >= this.length) this.mode = 'normal';
    if (this.mode === 'normal') this.maybeStartEpisode(rEpisode, rKind, rLength, dtSec);

    this.phase += dtSec * ((2 * Math.PI) / 600); // a slow ten-minute wobble
    const base = setpoint + 0.6 * Math.sin(this.phase);
    let target = base;
    if (this.mode === 'overheat') {
      // Ramp up over the first 30 s, hold, and fall back over the last 30 s.
      const up = Math.min(1, this.elapsed / 30);
      const down = Math.min(1, Math.max(0, (this.length - this.elapsed) / 30));
      target = base + this.peak * Math.min(up, down);
    }
    // First-order approach to the target (a house heats and cools gradually) plus noise.
    const k = 1 - Math.exp(-dtSec / 8);
    this.temperature += (target - this.temperature) * k + (rNoise - 0.5) * 0.3;
    this.humidity = Math.min(70, Math.max(20, this.humidity + (rHum - 0.5) * 0.6));

    let errors = 0;
    if (this.mode === 'errors') {
      // Expected errors per second rise linearly from 0.05 to 1 across the burst, so the
      // per-bucket error rate keeps climbing. Random rounding keeps the mean exact.
      const expected = (0.05 + 0.95 * Math.min(1, this.elapsed / this.length)) * dtSec;
      errors = Math.floor(expected + rErr);
    } else if (rErr < 0.002 * dtSec) {
      errors = 1; // the odd stray error that means nothing
    }

    if (this.mode === 'silent') return null;
    return {
      temperature: Math.round(this.temperature * 100) / 100,
      humidity: Math.round(this.humidity * 10) / 10,
      errors,
    };
  }

  private maybeStartEpisode(rEpisode: number, rKind: number, rLength: number, dtSec: number): void {
    const { overheatPerSec, errorsPerSec, silentPerSec } = this.rates;
    const total = (overheatPerSec + errorsPerSec + silentPerSec) * dtSec;
    if (rEpisode >= total) return;
    const pick = rKind * (overheatPerSec + errorsPerSec + silentPerSec);
    this.elapsed = 0;
    if (pick < overheatPerSec) {
      this.mode = 'overheat';
      this.length = 150 + rLength * 210; // 2.5 to 6 minutes
      this.peak = 6 + rLength * 4; // 6 to 10 °F over the setpoint
    } else if (pick < overheatPerSec + errorsPerSec) {
      this.mode = 'errors';
      this.length = 90 + rLength * 60;
    } else {
      this.mode = 'silent';
      this.length = 45 + rLength * 75; // well past the 30 s offline threshold
    }
  }
}
