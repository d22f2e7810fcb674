import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { apply, failures, HOSTS, onHost, resetHost, results, ROOT, writePlaybook } from '../helpers/lab.js';

const host = HOSTS[2] as string;
const site = writePlaybook(`
- hosts: ${host}
  become: yes
  vars:
    postgres_ram_mb: 2048
    postgres_databases: [shop]
    postgres_users: [{ name: shop, password: "pw-not-printed", role_attr_flags: CREATEDB }]
    postgres_backup_keep: 3
  roles: [postgres, postgres-backup, postgres-wal-archive]
`);

const run = (extra: string[] = []) => apply(site, extra, { cwd: ROOT });
const sql = (q: string, port = 5432) => onHost(host, `su postgres -c ${JSON.stringify(`psql -X -A -t -p ${port} -d shop -c "${q.replace(/"/g, '\\"')}"`)}`).stdout.trim();
const startTime = () => sql('SELECT pg_postmaster_start_time()');
const cronJob = () => onHost(host, "sed -n 's/^[^#][^ ]* [^ ]* [^ ]* [^ ]* [^ ]* postgres //p' /etc/cron.d/orch-pg-backup").stdout.trim();
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const runBackup = () => onHost(host, `su postgres -s /bin/sh -c ${shq(cronJob())}`);

test('postgres: installed, tuned from the memory formulas, logging on; converges', () => {
  resetHost(host);
  const first = run();
  assert.equal(first.code, 0, failures(first));
  const second = run();
  assert.equal(second.code, 0, failures(second));
  assert.equal(results(second).filter((r) => r.status === 'changed').length, 0, 'second run changes nothing');
  assert.equal(sql('SHOW shared_buffers'), '512MB');
  assert.equal(sql('SHOW work_mem'), '41943kB');
  assert.equal(sql('SHOW maintenance_work_mem'), '128MB');
  assert.equal(sql('SHOW effective_cache_size'), '1GB');
  assert.equal(sql('SHOW log_min_duration_statement'), '50ms');
  assert.equal(sql('SHOW log_lock_waits'), 'on');
  assert.equal(sql("SELECT rolcreatedb FROM pg_roles WHERE rolname = 'shop'"), 't');
  assert.doesNotMatch(first.stdout + second.stdout, /pw-not-printed/);
});

test('postgres: a reloadable change reloads (same postmaster); a restart-only change restarts because pending_restart says so', () => {
  const before = startTime();
  const r = run(['-e', 'postgres_work_mem_kb=8192']);
  assert.equal(r.code, 0, failures(r));
  assert.equal(sql('SHOW work_mem'), '8MB');
  assert.equal(startTime(), before, 'reloaded, not restarted');
  assert.equal(results(r).find((x) => x.task.startsWith('Restart, because'))?.status, 'skipped');
  const r2 = run(['-e', 'postgres_work_mem_kb=8192', '-e', 'postgres_shared_buffers_mb=256']);
  assert.equal(r2.code, 0, failures(r2));
  assert.equal(sql('SHOW shared_buffers'), '256MB');
  assert.notEqual(startTime(), before, 'restarted for shared_buffers');
  assert.equal(results(r2).find((x) => x.task.startsWith('Restart, because PostgreSQL reports'))?.status, 'changed');
});

test('backup drill: the cron command dumps, the database is dropped, pg_restore brings the rows back', () => {
  sql('CREATE TABLE orders (id serial primary key, item text); INSERT INTO orders (item) SELECT md5(g::text) FROM generate_series(1, 500) g');
  const sum = sql('SELECT count(*) || md5(string_agg(item, \',\' ORDER BY id)) FROM orders');
  const job = runBackup();
  assert.equal(job.code, 0, job.stderr);
  const dump = onHost(host, 'ls -1t /var/backups/postgresql/shop-2*.dump | head -n 1').stdout.trim();
  assert.match(dump, /shop-\d{8}T\d{6}\.dump$/);
  assert.equal(onHost(host, `stat -c '%U %a' ${dump}`).stdout.trim(), 'postgres 600');
  onHost(host, "su postgres -c 'dropdb shop'");
  assert.notEqual(onHost(host, "su postgres -c 'psql -d shop -c select'").code, 0, 'database is gone');
  const restore = onHost(host, `su postgres -c 'pg_restore -C -d postgres ${dump}'`);
  assert.equal(restore.code, 0, restore.stderr);
  assert.equal(sql("SELECT count(*) || md5(string_agg(item, ',' ORDER BY id)) FROM orders"), sum);
  assert.match(onHost(host, 'cat /var/log/postgresql/orch-pg-backup.log').stdout, /ok: shop -> \/var\/backups\/postgresql\/shop-/);
});

test('backup drill: a database created after the role ran (over plain psql) is in the next backup and restores; templates are not dumped', () => {
  // Created behind orch's back: the role's inventory never names these. "shop-eu" shares shop's prefix; the
  // other name needs escaping as a file name and as a pg_dump argument.
  const odd = `it's =odd/ü`;
  // -d as a conninfo string: a bare name holding '=' would be read as one.
  const conninfo = (db: string) => `dbname='${db.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const psql = (db: string, q: string) => onHost(host, `su postgres -c ${shq(`psql -X -v ON_ERROR_STOP=1 -A -t -d ${shq(conninfo(db))} -c ${shq(q)}`)}`);
  for (const db of ['shop-eu', odd]) {
    const made = psql('postgres', `CREATE DATABASE "${db}"`);
    assert.equal(made.code, 0, made.stderr);
    assert.equal(psql(db, `CREATE TABLE t (v text); INSERT INTO t VALUES ('row of ${db.replace(/'/g, "''")}')`).code, 0);
  }
  const job = runBackup();
  assert.equal(job.code, 0, job.stderr);
  const listing = onHost(host, 'ls -1 /var/backups/postgresql/').stdout;
  assert.match(listing, /^shop-eu-\d{8}T\d{6}\.dump$/m);
  assert.match(listing, /^it%27s%20%3Dodd%2F%C3%BC-\d{8}T\d{6}\.dump$/m, 'the odd name, percent-encoded');
  assert.match(listing, /^postgres-\d{8}T\d{6}\.dump$/m, 'the postgres database is a database like any other');
  assert.doesNotMatch(listing, /^template/m, 'template0/template1 are not dumped');
  for (const [db, stem] of [['shop-eu', 'shop-eu'], [odd, 'it%27s%20%3Dodd%2F%C3%BC']] as const) {
    const dump = onHost(host, `ls -1t /var/backups/postgresql/${shq(stem)}-*.dump | head -n 1`).stdout.trim();
    assert.equal(psql('postgres', `DROP DATABASE "${db}"`).code, 0);
    assert.notEqual(psql(db, 'SELECT 1').code, 0, `${db} is gone`);
    const restore = onHost(host, `su postgres -c ${shq(`pg_restore -C -d postgres ${shq(dump)}`)}`);
    assert.equal(restore.code, 0, restore.stderr);
    assert.equal(psql(db, 'SELECT v FROM t').stdout.trim(), `row of ${db}`);
  }
});

test('backup drill: the globals file (pg_dumpall --globals-only) restores a dropped role with its password', () => {
  const psql = (q: string) => onHost(host, `su postgres -c ${shq(`psql -X -A -t -d postgres -c ${shq(q)}`)}`);
  assert.equal(psql("CREATE ROLE reporter LOGIN PASSWORD 'report-pw' CONNECTION LIMIT 3").code, 0);
  const hash = psql("SELECT rolpassword FROM pg_authid WHERE rolname = 'reporter'").stdout.trim();
  assert.match(hash, /^SCRAM-SHA-256\$/);
  const job = runBackup();
  assert.equal(job.code, 0, job.stderr);
  const globals = onHost(host, 'ls -1t /var/backups/postgresql/globals-*.sql | head -n 1').stdout.trim();
  assert.match(globals, /globals-\d{8}T\d{6}\.sql$/);
  assert.equal(onHost(host, `stat -c '%U %a' ${globals}`).stdout.trim(), 'postgres 600');
  assert.equal(psql('DROP ROLE reporter').code, 0);
  assert.equal(psql("SELECT count(*) FROM pg_roles WHERE rolname = 'reporter'").stdout.trim(), '0');
  // Roles that still exist (postgres, shop) give "already exists" errors; psql goes on, as a restore should.
  const restore = onHost(host, `su postgres -c ${shq(`psql -X -q -d postgres -f ${globals}`)}`);
  assert.equal(restore.code, 0, restore.stderr);
  assert.equal(psql("SELECT rolname || ' ' || rolcanlogin || ' ' || rolconnlimit FROM pg_roles WHERE rolname = 'reporter'").stdout.trim(), 'reporter true 3');
  assert.equal(psql("SELECT rolpassword FROM pg_authid WHERE rolname = 'reporter'").stdout.trim(), hash, 'same password hash');
  assert.match(onHost(host, 'cat /var/log/postgresql/orch-pg-backup.log').stdout, /ok: globals -> \/var\/backups\/postgresql\/globals-/);
});

test('backup: retention keeps the newest N per database (pruning shop spares shop-eu); a list narrows the backup; a failing dump exits non-zero with a clear log line', () => {
  for (let i = 0; i < 4; i++) {
    onHost(host, 'sleep 1');
    assert.equal(runBackup().code, 0);
  }
  assert.equal(onHost(host, 'ls /var/backups/postgresql/shop-2*.dump | wc -l').stdout.trim(), '3');
  assert.equal(onHost(host, 'ls /var/backups/postgresql/shop-eu-*.dump | wc -l').stdout.trim(), '3');
  assert.equal(onHost(host, 'ls /var/backups/postgresql/globals-*.sql | wc -l').stdout.trim(), '3');
  const bad = apply(writePlaybook(`- hosts: ${host}\n  become: yes\n  vars: { postgres_backup_databases: [nosuchdb, shop] }\n  roles: [postgres-backup]\n`), [], { cwd: ROOT });
  assert.equal(bad.code, 0, failures(bad));
  const euBefore = onHost(host, 'ls /var/backups/postgresql/shop-eu-*.dump').stdout;
  onHost(host, 'sleep 1');
  const out = runBackup();
  assert.notEqual(out.code, 0);
  assert.match(out.stderr, /pg_dump of nosuchdb failed/);
  assert.match(onHost(host, 'cat /var/log/postgresql/orch-pg-backup.log').stdout, /FAILED: pg_dump of nosuchdb/);
  assert.equal(onHost(host, 'ls /var/backups/postgresql/shop-eu-*.dump').stdout, euBefore, 'shop-eu is not in the narrowed list');
  assert.match(onHost(host, 'tail -n 1 /var/log/postgresql/orch-pg-backup.log').stdout, /ok: shop -> /, 'the listed database that exists is still dumped');
  assert.equal(run().code, 0, 'put the role back as it was');
});

test('overlap drill: while a backup holds the lock, the cron command exits at once and dumps nothing', () => {
  const before = onHost(host, 'ls /var/backups/postgresql/ | sort').stdout;
  onHost(host, "su postgres -s /bin/sh -c 'nohup flock /var/backups/postgresql/.backup.lock sleep 6 >/dev/null 2>&1 &'");
  onHost(host, 'sleep 0.5');
  // timed on the host: the SSH login around it (through a bastion on the production profile) does not count
  const job = cronJob();
  const r = onHost(host, `s=$(date +%s%N); su postgres -s /bin/sh -c ${shq(job)}; rc=$?; echo "took $(( ($(date +%s%N) - s) / 1000000 ))"; exit $rc`);
  const took = Number(/took (\d+)/.exec(r.stdout)?.[1] ?? -1);
  assert.equal(r.code, 75, 'flock -n gives up at once');
  assert.ok(took >= 0, r.stdout);
  assert.ok(took < 2000, `exited in ${took} ms`);
  assert.equal(onHost(host, 'ls /var/backups/postgresql/ | sort').stdout, before, 'no second dump');
  assert.match(onHost(host, 'tail -n 1 /var/log/postgresql/orch-pg-backup.log').stdout, /skipped, another backup is still running/);
  onHost(host, 'sleep 6');
  assert.equal(runBackup().code, 0, 'once the lock is free, the next run works');
});

test('PITR drill: restore to a noted time on a fresh cluster: earlier rows are there, later ones are not', () => {
  sql('CREATE TABLE pitr (id int, phase text)');
  sql("INSERT INTO pitr SELECT g, 'before' FROM generate_series(1, 100) g");
  onHost(host, 'sleep 1.2');
  const target = sql('SELECT now()');
  onHost(host, 'sleep 1.2');
  sql("INSERT INTO pitr SELECT g, 'after' FROM generate_series(101, 200) g");
  const archived = () => Number(sql('SELECT archived_count FROM pg_stat_archiver'));
  const n = archived();
  sql('SELECT pg_switch_wal()');
  const deadline = Date.now() + 30_000;
  while (archived() <= n && Date.now() < deadline) onHost(host, 'sleep 0.3');
  assert.ok(archived() > n, 'the WAL segment with both inserts was archived');
  const r = apply(join(ROOT, 'playbooks', 'pg-restore.yml'), ['-e', `pitr_host=${host}`, '-e', JSON.stringify({ pitr_target_time: target })], { cwd: ROOT });
  assert.equal(r.code, 0, failures(r));
  assert.equal(sql("SELECT count(*) FILTER (WHERE phase = 'before') || '/' || count(*) FILTER (WHERE phase = 'after') FROM pitr", 5433), '100/0');
  assert.equal(sql("SELECT count(*) FROM pitr", 5432), '200', 'the original cluster is untouched');
});
