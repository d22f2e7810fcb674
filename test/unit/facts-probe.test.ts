import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { factSections, factsScript, parseFacts } from '../../src/facts/gather.js';
import { factsProbe } from '../../src/facts/probe.js';
import { SECTION_MARKER } from '../../src/facts/sections.js';
import { localRunner } from '../helpers/local-runner.js';

// The facts probe against the shell script it replaces, both run on this machine (a Debian system, as the
// hosts are): the same bytes section by section, but for what changes from one instant to the next.

const factDir = mkdtempSync(join(tmpdir(), 'orch-facts.d-'));
writeFileSync(join(factDir, 'plain.fact'), '{"a": 1}\n');
writeFileSync(join(factDir, 'run.fact'), '#!/bin/sh\necho \'{"ran": true}\'\n', { mode: 0o755 });
writeFileSync(join(factDir, '.hidden.fact'), '{}');
const sections = factSections({ factPath: factDir });

const sh = (command: string) => execFileSync('sh', ['-c', command], { encoding: 'utf8' });
const bySection = (out: string) =>
  new Map(
    out
      .split(`\n${SECTION_MARKER}`)
      .slice(1)
      .map((c) => [c.slice(0, c.indexOf('\n')), c.slice(c.indexOf('\n') + 1)] as const),
  );
/** What may change between two runs a moment apart: the clock, uptime, memory and free space, `_`. */
const steady = (name: string, text: string) =>
  name === 'date_time'
    ? text.replace(/^now=(\S+ ){6}\d+ \d+ /m, 'now=')
    : text
        .replace(/^(uptime|mem_[A-Za-z_]+)=.*$/gm, '$1=')
        .replace(/^(statfs=\d+ \d+ \d+) \d+ \d+ (\d+) \d+/gm, '$1 $2')
        .replace(/(^|\0)_=[^\0]*/g, '$1_=');

for (const s of sections) {
  test(`facts probe: the ${s.name} section prints what the shell script prints`, () => {
    const before = bySection(sh(factsScript([s]))).get(s.name) ?? '';
    const probe = bySection(sh(factsProbe([s]))).get(s.name) ?? '';
    const after = bySection(sh(factsScript([s]))).get(s.name) ?? '';
    assert.ok(probe.length > 0 || before.length === 0, 'the probe printed the section');
    // interfaces or mounts that came or went between the runs: the probe matches one of them
    const want = [before, after].map((o) => steady(s.name, o));
    assert.ok(want.includes(steady(s.name, probe)), `probe:\n${probe}\nscript:\n${before}`);
  });
}

test('facts probe: in the runner (a probe frame), the facts parsed equal the shell script facts', async () => {
  const { session } = localRunner();
  await session.started();
  const r = await session.run(factsProbe(sections), Buffer.alloc(0));
  session.close();
  assert.equal(r.rc, 0, r.stderr);
  const fromProbe = parseFacts(r.stdout, sections);
  const fromScript = parseFacts(sh(factsScript(sections)), sections);
  for (const key of ['distribution', 'kernel', 'hostname', 'fqdn', 'user_id', 'processor_vcpus', 'service_mgr'])
    assert.deepEqual(fromProbe[key], fromScript[key], key);
  assert.deepEqual(fromProbe.ansible_local, { plain: { a: 1 }, run: { ran: true } });
  assert.equal(typeof (fromProbe.date_time as Record<string, unknown>).epoch, 'string');
});
