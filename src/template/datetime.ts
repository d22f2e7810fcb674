/** Python's datetime as templates see it (Ansible's now() global): attributes, strftime, isoformat, str(). */
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export class PyDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly microsecond: number;
  private readonly weekday0: number;

  constructor(
    private readonly date: Date,
    private readonly utc: boolean,
  ) {
    const g = <K extends 'FullYear' | 'Month' | 'Date' | 'Hours' | 'Minutes' | 'Seconds' | 'Day'>(k: K): number => (utc ? date[`getUTC${k}`]() : date[`get${k}`]());
    this.year = g('FullYear');
    this.month = g('Month') + 1;
    this.day = g('Date');
    this.hour = g('Hours');
    this.minute = g('Minutes');
    this.second = g('Seconds');
    this.microsecond = date.getMilliseconds() * 1000;
    this.weekday0 = g('Day');
  }

  strftime(fmt: string): string {
    const startOfYear = this.utc ? Date.UTC(this.year, 0, 1) : new Date(this.year, 0, 1).getTime();
    const yday = Math.floor((this.date.getTime() - startOfYear) / 86400000) + 1;
    const map: Record<string, string> = {
      Y: String(this.year), y: pad(this.year % 100), m: pad(this.month), d: pad(this.day), H: pad(this.hour), I: pad(((this.hour + 11) % 12) + 1),
      M: pad(this.minute), S: pad(this.second), f: pad(this.microsecond, 6), p: this.hour < 12 ? 'AM' : 'PM', j: pad(yday, 3),
      a: DAYS[this.weekday0]?.slice(0, 3) ?? '', A: DAYS[this.weekday0] ?? '', w: String(this.weekday0), b: MONTHS[this.month - 1]?.slice(0, 3) ?? '',
      B: MONTHS[this.month - 1] ?? '', s: String(Math.floor(this.date.getTime() / 1000)), Z: this.utc ? 'UTC' : '', z: this.utc ? '+0000' : '', '%': '%',
    };
    return fmt.replace(/%(.)/g, (m, c: string) => map[c] ?? m);
  }

  isoformat(sep = 'T'): string {
    const base = `${this.year}-${pad(this.month)}-${pad(this.day)}${sep}${pad(this.hour)}:${pad(this.minute)}:${pad(this.second)}`;
    return this.microsecond ? `${base}.${pad(this.microsecond, 6)}` : base;
  }

  timestamp(): number {
    return this.date.getTime() / 1000;
  }

  weekday(): number {
    return (this.weekday0 + 6) % 7;
  }

  toString(): string {
    return this.isoformat(' ');
  }
}

/** Ansible's now(utc=False, fmt=None). */
export function now(utc: unknown = false, fmt: unknown = undefined): PyDateTime | string {
  const kw = utc && typeof utc === 'object' ? (utc as { utc?: unknown; fmt?: unknown }) : undefined;
  const isUtc = Boolean(kw ? kw.utc : utc);
  const format = kw ? kw.fmt : fmt;
  const d = new PyDateTime(new Date(), isUtc);
  return typeof format === 'string' ? d.strftime(format) : d;
}
