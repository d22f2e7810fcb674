import { chmodSync, chownSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { compareCases, gnarly, touch, type Case } from '../helpers/file-ops-compare.js';

// The file module's mode and owner steps (chmod, chown, chgrp, chown -R), as Perl and as the shell commands
// (helpers/file-ops-compare.ts).

const cases: Case[] = [
  [
    'chmod with 4 digits keeps a directory setgid bit, with 5 clears it; files lose it',
    (d) => {
      for (const n of ['d4', 'd5', 'f']) (n === 'f' ? touch : mkdirSync)(join(d, n));
      for (const n of ['d4', 'd5', 'f']) chmodSync(join(d, n), 0o2755);
    },
    (d) => [
      { op: 'chmod', mode: '0750', path: join(d, 'd4') },
      { op: 'chmod', mode: '00750', path: join(d, 'd5') },
      { op: 'chmod', mode: '0750', path: join(d, 'f') },
    ],
  ],
  ['chmod a missing path', () => undefined, (d) => [{ op: 'chmod', mode: '0644', path: join(d, "it's\n") }]],
  [
    'chmod a dangling link',
    (d) => symlinkSync('nowhere', join(d, 'dl')),
    (d) => [{ op: 'chmod', mode: '0644', path: join(d, 'dl') }],
  ],
  [
    "chmod root's file (as nobody)",
    (d) => touch(join(d, 'f')),
    (d) => [{ op: 'chmod', mode: '0600', path: join(d, 'f') }],
    true,
  ],
  [
    'chown an unknown user',
    (d) => touch(join(d, 'f')),
    (d) => [{ op: 'chown', owner: 'no-such-user', path: join(d, 'f'), noDereference: false }],
  ],
  ...['a.b', 'a:b', '5 ', '-5', '999999999'].map((group): Case => [
    `chgrp ${JSON.stringify(group)} (a dot, a colon, a trailing space, a sign, 9 digits)`,
    (d) => touch(join(d, 'f')),
    (d) => [{ op: 'chgrp', group, path: join(d, 'f'), noDereference: false }],
  ]),
  [
    'chgrp an unknown group',
    (d) => touch(join(d, 'f')),
    (d) => [{ op: 'chgrp', group: 'no such group', path: join(d, 'f'), noDereference: false }],
  ],
  [
    'chown and chgrp by number, and a link itself (-h)',
    (d) => (touch(join(d, 'f')), symlinkSync('f', join(d, 'l'))),
    (d) => [
      { op: 'chown', owner: '54321', path: join(d, 'f'), noDereference: false },
      { op: 'chgrp', group: '54322', path: join(d, 'f'), noDereference: false },
      { op: 'chown', owner: 'nobody', path: join(d, 'l'), noDereference: true },
      { op: 'chgrp', group: 'nogroup', path: join(d, 'l'), noDereference: true },
    ],
  ],
  [
    'chown a dangling link, and a missing path with -h',
    (d) => symlinkSync('nowhere', join(d, 'dl')),
    (d) => [
      { op: 'chown', owner: 'nobody', path: join(d, 'dl'), noDereference: false },
      { op: 'chgrp', group: 'nogroup', path: join(d, 'nx'), noDereference: true },
    ],
  ],
  [
    "chown root's file (as nobody)",
    (d) => touch(join(d, 'f')),
    (d) => [{ op: 'chgrp', group: 'nogroup', path: join(d, 'f'), noDereference: false }],
    true,
  ],
  [
    'chown -R a tree with a link inside (the link itself, not its target)',
    (d) => {
      mkdirSync(join(d, 'keep'));
      mkdirSync(join(d, 't', 's'), { recursive: true });
      touch(join(d, 't', 's', gnarly));
      symlinkSync(join(d, 'keep'), join(d, 't', 'l'));
    },
    (d) => [{ op: 'chownR', spec: 'nobody:nogroup', path: join(d, 't') }],
  ],
  [
    'chown -R of a link (the link only) and with a group alone',
    (d) => (mkdirSync(join(d, 't', 's'), { recursive: true }), symlinkSync('t', join(d, 'l'))),
    (d) => [
      { op: 'chownR', spec: 'nobody', path: join(d, 'l') },
      { op: 'chownR', spec: ':54322', path: join(d, 't') },
    ],
  ],
  [
    'chown -R an unknown group',
    (d) => mkdirSync(join(d, 't')),
    (d) => [{ op: 'chownR', spec: 'nobody:no-such-group', path: join(d, 't') }],
  ],
  [
    "chown -R root's tree (as nobody), with a directory nobody may read",
    (d) => {
      mkdirSync(join(d, 't', 'nr', 'q'), { recursive: true });
      touch(join(d, 't', 'f'));
      chmodSync(join(d, 't', 'nr'), 0o000);
      chownSync(join(d, 't'), 65534, 0);
    },
    (d) => [{ op: 'chownR', spec: 'nobody', path: join(d, 't') }],
    true,
  ],
];

compareCases(cases);
