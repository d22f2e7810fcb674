/** A naive local Python `datetime.datetime`, as Ansible hands templates `template_run_date` and `template_mtime`. */

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

export class PyDatetime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly microsecond: number;

  constructor(private readonly date: Date) {
    this.year = date.getFullYear();
    this.month = date.getMonth() + 1;
    this.day = date.getDate();
    this.hour = date.getHours();
    this.minute = date.getMinutes();
    this.second = date.getSeconds();
    this.microsecond = date.getMilliseconds() * 1000;
  }

  /** str(datetime): microseconds only when there are any. */
  __str__(): string {
    const base = `${pad(this.year, 4)}-${pad(this.month)}-${pad(this.day)} ${pad(this.hour)}:${pad(this.minute)}:${pad(this.second)}`;
    return this.microsecond ? `${base}.${pad(this.microsecond, 6)}` : base;
  }

  toString(): string {
    return this.__str__();
  }

  isoformat(sep = 'T'): string {
    return this.__str__().replace(' ', String(sep));
  }

  timestamp(): number {
    return this.date.getTime() / 1000;
  }

  /** C-locale strftime with the directives Python documents. */
  strftime(format: string): string {
    const d = this.date;
    const h12 = this.hour % 12 === 0 ? 12 : this.hour % 12;
    const start = new Date(this.year, 0, 1);
    const yday = Math.floor((new Date(this.year, this.month - 1, this.day).getTime() - start.getTime()) / 86_400_000) + 1;
    const table: Record<string, () => string> = {
      a: () => (DAYS[d.getDay()] as string).slice(0, 3),
      A: () => DAYS[d.getDay()] as string,
      w: () => String(d.getDay()),
      d: () => pad(this.day),
      e: () => String(this.day).padStart(2, ' '),
      b: () => (MONTHS[this.month - 1] as string).slice(0, 3),
      h: () => (MONTHS[this.month - 1] as string).slice(0, 3),
      B: () => MONTHS[this.month - 1] as string,
      m: () => pad(this.month),
      y: () => pad(this.year % 100),
      Y: () => String(this.year),
      H: () => pad(this.hour),
      I: () => pad(h12),
      p: () => (this.hour < 12 ? 'AM' : 'PM'),
      M: () => pad(this.minute),
      S: () => pad(this.second),
      f: () => pad(this.microsecond, 6),
      j: () => pad(yday, 3),
      z: () => '',
      Z: () => '',
      s: () => String(Math.floor(this.timestamp())),
      c: () => this.strftime('%a %b %e %H:%M:%S %Y'),
      x: () => this.strftime('%m/%d/%y'),
      X: () => this.strftime('%H:%M:%S'),
      F: () => this.strftime('%Y-%m-%d'),
      T: () => this.strftime('%H:%M:%S'),
      '%': () => '%',
    };
    return format.replace(/%(.)/g, (all, c: string) => table[c]?.() ?? all);
  }
}

/** Python's time.strftime over a format, for Ansible's `ansible_managed` string. */
export function strftime(format: string, date: Date): string {
  return new PyDatetime(date).strftime(format);
}

/** Ansible's now(utc=False, fmt=None) global: a datetime (local, or UTC with utc=True), or its strftime with fmt. */
export function now(utc: unknown = false, fmt: unknown = undefined): PyDatetime | string {
  const kw = utc && typeof utc === 'object' ? (utc as { utc?: unknown; fmt?: unknown }) : undefined;
  const isUtc = Boolean(kw ? kw.utc : utc);
  const format = kw ? kw.fmt : fmt;
  const at = new Date();
  // a UTC datetime is a naive one whose fields are UTC's: shift so the local getters read them
  const d = new PyDatetime(isUtc ? new Date(at.getTime() + at.getTimezoneOffset() * 60_000) : at);
  return typeof format === 'string' ? d.strftime(format) : d;
}
