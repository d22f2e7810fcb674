/** A naive local Python `datetime.datetime`, as Ansible hands templates `template_run_date` and `template_mtime`. */

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

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
    const yday =
      Math.floor((new Date(this.year, this.month - 1, this.day).getTime() - start.getTime()) / 86_400_000) + 1;
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

/** Ansible's strftime filter: `fmt | strftime(second=None, utc=False)`, time.strftime over local time (or UTC). */
export function strftimeFilter(format: unknown, second: unknown = null, utc: unknown = false): string {
  const at = second === null || second === undefined ? new Date() : new Date(Number(second) * 1000);
  return new PyDatetime(utc === true ? new Date(at.getTime() + at.getTimezoneOffset() * 60_000) : at).strftime(
    String(format),
  );
}

const STRPTIME: Record<string, [string, (d: number[], v: string) => void]> = {
  Y: ['(\\d{4})', (d, v) => (d[0] = Number(v))],
  y: ['(\\d{2})', (d, v) => (d[0] = Number(v) + (Number(v) < 69 ? 2000 : 1900))],
  m: ['(\\d{1,2})', (d, v) => (d[1] = Number(v))],
  d: ['(\\d{1,2})', (d, v) => (d[2] = Number(v))],
  H: ['(\\d{1,2})', (d, v) => (d[3] = Number(v))],
  M: ['(\\d{1,2})', (d, v) => (d[4] = Number(v))],
  S: ['(\\d{1,2})', (d, v) => (d[5] = Number(v))],
  f: ['(\\d{1,6})', (d, v) => (d[6] = Number(v.padEnd(6, '0')))],
  b: ['([A-Za-z]{3})', (d, v) => (d[1] = MONTHS.findIndex((m) => m.slice(0, 3).toLowerCase() === v.toLowerCase()) + 1)],
  B: ['([A-Za-z]+)', (d, v) => (d[1] = MONTHS.findIndex((m) => m.toLowerCase() === v.toLowerCase()) + 1)],
};

/** Ansible's to_datetime filter: datetime.strptime(string, format) for the common directives. */
export function toDatetime(value: unknown, format: unknown = '%Y-%m-%d %H:%M:%S'): PyDatetime {
  const text = String(value);
  const fmt = String(format);
  const setters: ((d: number[], v: string) => void)[] = [];
  const pattern = fmt.replace(
    /%(.)|([.*+?^${}()|[\]\\])/g,
    (all, c: string | undefined, special: string | undefined) => {
      if (special) return `\\${special}`;
      if (c === '%') return '%';
      const entry = STRPTIME[c as string];
      if (!entry) throw new Error(`to_datetime: the directive %${c} is not supported by orch`);
      setters.push(entry[1]);
      return entry[0];
    },
  );
  const m = new RegExp(`^${pattern}$`).exec(text);
  if (!m) throw new Error(`time data '${text}' does not match format '${fmt}'`);
  const d = [1900, 1, 1, 0, 0, 0, 0];
  setters.forEach((set, i) => set(d, m[i + 1] as string));
  const [Y, mo, day, H, Mi, S, us] = d as [number, number, number, number, number, number, number];
  return new PyDatetime(new Date(Y, mo - 1, day, H, Mi, S, Math.floor(us / 1000)));
}
