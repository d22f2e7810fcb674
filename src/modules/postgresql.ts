import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { sh } from '../transport/quote.js';
import type { Params } from './spec.js';
import { commandFailed, defineStateModule, ModuleFailure, type ModuleContext } from './types.js';

/** SQL literals and identifiers: the only way values reach psql. */
export function sqlLiteral(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}

export function sqlIdent(v: string): string {
  return `"${v.replace(/"/g, '""')}"`;
}

/** One psql call, unaligned output, stops at the first error. SQL goes on stdin (never in argv/ps). */
async function psql(ctx: ModuleContext, p: Params, sql: string, db = 'postgres'): Promise<string> {
  // -d with an = in it is a connection string: the name goes in as dbname='...' so it stays a name
  const conninfo = `dbname='${db.replace(/[\\']/g, (c) => `\\${c}`)}'`;
  const r = await ctx.run(sh`psql -X -A -t -q -v ON_ERROR_STOP=1 -p ${String(p.port ?? 5432)} -d ${conninfo}`, {
    stdin: sql,
  });
  if (r.rc !== 0) throw commandFailed('psql', r);
  return r.stdout.trim();
}

const connection = {
  port: { type: 'int', support: 'full', default: 5432 },
  login_db: { type: 'str', support: 'full', default: 'postgres' },
} as const;

export const postgresqlDb = defineStateModule<{ exists: boolean; owner?: string }, string>({
  name: 'postgresql_db',
  spec: {
    params: {
      name: { type: 'str', support: 'full', required: true, aliases: ['db'] },
      owner: { type: 'str', support: 'full' },
      encoding: { type: 'str', support: 'full', default: 'UTF8' },
      template: { type: 'str', support: 'full', default: 'template0' },
      state: { type: 'str', support: 'full', default: 'present', choices: ['present', 'absent'] },
      ...connection,
    },
  },
  async query(ctx, p) {
    const out = await psql(
      ctx,
      p,
      `SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = ${sqlLiteral(String(p.name))};`,
      String(p.login_db),
    );
    return out === '' ? { exists: false } : { exists: true, owner: out };
  },
  plan(p, s) {
    const db = sqlIdent(String(p.name));
    if (p.state === 'absent') return s.exists ? { changes: `DROP DATABASE ${db};` } : null;
    if (!s.exists) {
      const owner = p.owner ? ` OWNER ${sqlIdent(String(p.owner))}` : '';
      return {
        changes: `CREATE DATABASE ${db}${owner} ENCODING ${sqlLiteral(String(p.encoding))} TEMPLATE ${sqlIdent(String(p.template))};`,
        result: { diff: [{ path: String(p.name), header: 'database', before: 'absent', after: 'present' }] },
      };
    }
    if (p.owner && s.owner !== p.owner)
      return {
        changes: `ALTER DATABASE ${db} OWNER TO ${sqlIdent(String(p.owner))};`,
        result: { diff: [{ path: String(p.name), header: 'owner', before: s.owner ?? '', after: String(p.owner) }] },
      };
    return null;
  },
  async apply(ctx, p, sql) {
    await psql(ctx, p, sql, String(p.login_db));
  },
});

interface RoleState {
  exists: boolean;
  attrs?: Record<string, boolean>;
  /** rolpassword from pg_authid: "SCRAM-SHA-256$..." or "md5..." (or empty) */
  stored?: string;
}

/** Whether `password` is the one stored (PostgreSQL's SCRAM-SHA-256 or md5 form), checked on the controller. */
export function passwordMatches(stored: string | undefined, user: string, password: string): boolean {
  if (!stored) return false;
  const scram = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(stored);
  if (scram) {
    const salted = pbkdf2Sync(password, Buffer.from(scram[2] as string, 'base64'), Number(scram[1]), 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest('base64');
    const serverKey = createHmac('sha256', salted).update('Server Key').digest('base64');
    return storedKey === scram[3] && serverKey === scram[4];
  }
  if (stored.startsWith('md5'))
    return (
      stored ===
      `md5${createHash('md5')
        .update(password + user)
        .digest('hex')}`
    );
  return stored === password;
}

const ATTRS = ['SUPERUSER', 'CREATEDB', 'CREATEROLE', 'LOGIN', 'REPLICATION'] as const;
const COLUMNS: Record<(typeof ATTRS)[number], string> = {
  SUPERUSER: 'rolsuper',
  CREATEDB: 'rolcreatedb',
  CREATEROLE: 'rolcreaterole',
  LOGIN: 'rolcanlogin',
  REPLICATION: 'rolreplication',
};

function wantedAttrs(p: Params): Record<string, boolean> {
  const out: Record<string, boolean> = { LOGIN: p.login !== false };
  for (const flag of String(p.role_attr_flags ?? '')
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s)) {
    const on = !flag.startsWith('NO');
    const name = on ? flag : flag.slice(2);
    if (!(ATTRS as readonly string[]).includes(name)) throw new ModuleFailure(`unknown role attribute ${flag}`);
    out[name] = on;
  }
  return out;
}

export const postgresqlUser = defineStateModule<RoleState, string>({
  name: 'postgresql_user',
  spec: {
    params: {
      name: { type: 'str', support: 'full', required: true, aliases: ['user'] },
      password: { type: 'str', support: 'full', noLog: true },
      update_password: { type: 'str', support: 'full', default: 'always', choices: ['always', 'on_create'] },
      role_attr_flags: { type: 'str', support: 'full', default: '' },
      login: { type: 'bool', support: 'full', default: true },
      db: { type: 'str', support: 'full' },
      priv: { type: 'str', support: 'full' },
      state: { type: 'str', support: 'full', default: 'present', choices: ['present', 'absent'] },
      ...connection,
    },
  },
  async query(ctx, p) {
    const name = sqlLiteral(String(p.name));
    // The stored hash comes back so the password can be compared here without sending it anywhere.
    const out = await psql(
      ctx,
      p,
      `SELECT ${ATTRS.map((a) => `${COLUMNS[a]}::text`).join(" || ',' || ")} || '|' || coalesce(rolpassword, '') FROM pg_authid WHERE rolname = ${name};`,
      String(p.login_db),
    );
    if (out === '') return { exists: false };
    const [flags = '', stored] = out.split('|');
    const vals = flags.split(',').map((v) => v === 't' || v === 'true');
    return { exists: true, attrs: Object.fromEntries(ATTRS.map((a, i) => [a, vals[i] ?? false])), stored };
  },
  plan(p, s) {
    const role = sqlIdent(String(p.name));
    if (p.state === 'absent') return s.exists ? { changes: `DROP ROLE ${role};` } : null;
    const want = wantedAttrs(p);
    const attrSql = Object.entries(want)
      .map(([k, on]) => (on ? k : `NO${k}`))
      .join(' ');
    const pw = typeof p.password === 'string' ? ` PASSWORD ${sqlLiteral(p.password)}` : '';
    const grant =
      p.db && p.priv
        ? `GRANT ${String(p.priv).replace(/[^A-Za-z_, ]/g, '')} ON DATABASE ${sqlIdent(String(p.db))} TO ${role};`
        : '';
    if (!s.exists)
      return {
        changes: `CREATE ROLE ${role} ${attrSql}${pw};${grant}`,
        result: { diff: [{ path: String(p.name), header: 'role', before: 'absent', after: 'present' }] },
      };
    const differs = Object.entries(want).filter(([k, on]) => s.attrs?.[k] !== on);
    const newPassword =
      typeof p.password === 'string' &&
      p.update_password !== 'on_create' &&
      !passwordMatches(s.stored, String(p.name), p.password);
    if (differs.length === 0 && !newPassword) return null;
    if (differs.length === 0)
      return {
        changes: `ALTER ROLE ${role}${pw};`,
        result: { diff: [{ path: String(p.name), header: 'password', before: '(hidden)', after: '(changed)' }] },
      };
    return {
      changes: `ALTER ROLE ${role} ${attrSql}${newPassword ? pw : ''};`,
      result: {
        diff: [
          {
            path: String(p.name),
            header: 'attributes',
            before: differs.map(([k]) => `${s.attrs?.[k] ? '' : 'NO'}${k}`).join(' '),
            after: differs.map(([k, on]) => `${on ? '' : 'NO'}${k}`).join(' '),
          },
        ],
      },
    };
  },
  async apply(ctx, p, sql) {
    await psql(ctx, p, sql, String(p.login_db));
  },
});
