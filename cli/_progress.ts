/**
 * Progress bars for long work: bytes (or items), rate and time left, drawn
 * on standard error only when it is a terminal, and never under `--json`
 * or in CI. Redraws at most ten times a second and erases itself at the
 * end, so what stays on screen is the command's own output.
 *
 * @module
 */

import { human } from "./_common.ts";

/** Whether a bar may be drawn for this invocation. */
export function progressWanted(json: boolean): boolean {
  if (json) return false;
  try {
    if (Deno.env.get("CI") === "true" || Deno.env.get("TROVE_NO_PROGRESS")) return false;
  } catch { /* no env permission: decide by the terminal alone */ }
  return Deno.stderr.isTerminal();
}

const encoder = new TextEncoder();

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const mmss = `${String(m).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

/** One progress bar. A disabled bar accepts every call and draws nothing. */
export class ProgressBar {
  readonly #enabled: boolean;
  readonly #label: string;
  readonly #unit: "bytes" | "items";
  readonly #start = performance.now();
  #total: number | null;
  #done = 0;
  #drawn = 0;
  #visible = false;

  constructor(
    label: string,
    options: { total?: number | null; enabled: boolean; unit?: "bytes" | "items" },
  ) {
    this.#label = label;
    this.#total = options.total ?? null;
    this.#enabled = options.enabled;
    this.#unit = options.unit ?? "bytes";
  }

  /** Sets how much is done (and the total, once known). */
  update(done: number, total?: number | null): void {
    this.#done = done;
    if (total !== undefined) this.#total = total;
    if (!this.#enabled) return;
    const now = performance.now();
    if (now - this.#drawn < 100) return;
    this.#drawn = now;
    this.#draw(now);
  }

  #amount(n: number): string {
    return this.#unit === "bytes" ? human(n) : n.toLocaleString("en-US");
  }

  #draw(now: number): void {
    const seconds = (now - this.#start) / 1000;
    const rate = seconds > 0 ? this.#done / seconds : 0;
    const rateText = this.#unit === "bytes"
      ? `${human(Math.round(rate))}/s`
      : `${Math.round(rate)}/s`;
    let columns = 80;
    try {
      // A pseudo-terminal with no size set reports 0 columns.
      columns = Deno.consoleSize().columns || columns;
    } catch { /* not a console after all */ }
    let line: string;
    if (this.#total && this.#total > 0) {
      const fraction = Math.min(1, this.#done / this.#total);
      const left = rate > 0 ? (this.#total - this.#done) / rate : Infinity;
      const tail = ` ${(fraction * 100).toFixed(0).padStart(3)}% ${this.#amount(this.#done)}/${
        this.#amount(this.#total)
      } ${rateText} ${clock(left)} left`;
      const width = Math.max(10, Math.min(40, columns - this.#label.length - tail.length - 4));
      const full = Math.round(fraction * width);
      line = `${this.#label} [${"#".repeat(full)}${"-".repeat(width - full)}]${tail}`;
    } else {
      line = `${this.#label} ${this.#amount(this.#done)} ${rateText} ${clock(seconds)}`;
    }
    Deno.stderr.writeSync(encoder.encode(`\r${line.slice(0, columns - 1)}\x1b[K`));
    this.#visible = true;
  }

  /** Erases the bar. */
  finish(): void {
    if (this.#enabled && this.#visible) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
    this.#visible = false;
  }
}
