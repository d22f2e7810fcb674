// Records the probe table (test/fixtures/probes.json, replayed by test/unit/probes.test.ts) from a real lab host:
//   export ORCH_LAB_PREFIX=... ORCH_LAB_SUBNET=... ORCH_LAB_DIR=... ORCH_TEST_LAB_SIZE=1   # the lab's names
//   bin/orch lab up 1 && node --import tsx test/tools/record-probes.ts [HOST] && bin/orch lab down
// It makes the files, users and sysctl file the cases read (SETUP, as root), then runs every case through the
// module's own read path; each command and probe goes over plain OpenSSH as root (`perl -e CODE orch-probe` runs as
// a process there: it prints what the runner prints, test/modules/probe.test.ts checks that), and what the host
// printed is kept byte for byte with the value the parser made of it.
import { writeFileSync } from 'node:fs';
import { perlProbe } from '../../src/transport/probe-command.js';
import { HOSTS, onHost } from '../helpers/lab.js';
import { CASES, fingerprint, plain, runCase, SETUP, type Call, type Row } from '../helpers/probe-rows.js';

const host = process.argv[2] ?? (HOSTS[0] as string);
const setup = onHost(host, SETUP);
if (setup.code !== 0) throw new Error(`setup on ${host} failed: ${setup.stderr}`);

const rows: Row[] = [];
for (const c of CASES) {
  const calls: Call[] = [];
  const send = (via: Call['via'], text: string, command: string) => {
    const r = onHost(host, command);
    calls.push({ via, sent: fingerprint(text), rc: r.code, stdout: r.stdout, stderr: r.stderr });
    return Promise.resolve({ rc: r.code, stdout: r.stdout, stderr: r.stderr });
  };
  const ctx = {
    run: (command: string) => send('run', command, command),
    probe: (code: string) => send('probe', code, perlProbe(code)),
    warn: () => undefined,
  };
  rows.push({ ...c, calls, parsed: plain(await runCase(c, ctx)) });
}
const recorded = `${new Date().toISOString().slice(0, 10)} from lab host ${host} (Debian ${onHost(host, 'cat /etc/debian_version').stdout.trim()}) by test/tools/record-probes.ts`;
writeFileSync(new URL('../fixtures/probes.json', import.meta.url), `${JSON.stringify({ recorded, rows }, null, 1)}\n`);
console.log(`${rows.length} rows recorded from ${host}`);
