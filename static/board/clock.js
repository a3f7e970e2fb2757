/* The server's clock as seen from here, and timers that read it.
 *
 * Timers in the state are {name, label, duration_ms, elapsed_ms, started_at_ms, running, rev};
 * remaining = duration - elapsed - (server now - started_at) while running (PROTOCOL.md). */

export class ServerClock {
  offset = 0; // server clock minus ours, in ms
  #bestRtt = Infinity;

  now() {
    return Date.now() + this.offset;
  }

  /** A reading of the server's clock; `rtt` when it answered our ping. */
  note(serverMs, rtt) {
    if (typeof serverMs !== "number") return;
    // Prefer the estimate from the fastest round trip: its midpoint is closest to the truth.
    if (rtt !== undefined) {
      if (rtt <= this.#bestRtt * 1.5 || rtt < 50) {
        this.#bestRtt = Math.min(this.#bestRtt, rtt);
        this.offset = serverMs - (Date.now() - rtt / 2);
      }
    } else if (this.#bestRtt === Infinity) {
      this.offset = serverMs - Date.now();
    }
  }
}

export class TimerFaces {
  #clock;
  #shown = new Map(); // "name:rev" -> smallest remaining shown

  constructor(clock) {
    this.#clock = clock;
  }

  /** Milliseconds left on the timer as shown: the same timer (same revision) only ever
   * counts down on screen, even when the estimate of the server's clock improves; a new
   * revision (extend, resume) starts afresh. */
  remaining(timer) {
    let elapsed = timer.elapsed_ms;
    if (timer.running) elapsed += Math.max(0, this.#clock.now() - timer.started_at_ms);
    let ms = Math.max(0, timer.duration_ms - elapsed);
    const key = `${timer.name}:${timer.rev}`;
    const shown = this.#shown.get(key);
    if (shown !== undefined && ms > shown) ms = shown;
    this.#shown.set(key, ms);
    return ms;
  }

  /** After a snapshot: the board may be another one (a new epoch). */
  forget() {
    this.#shown.clear();
  }
}

export function formatClock(ms) {
  const total = Math.ceil(ms / 1000);
  const minutes = Math.floor(total / 60), seconds = total % 60;
  return `${minutes}:${seconds < 10 ? "0" : ""}${seconds}`;
}
