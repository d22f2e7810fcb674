import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetchDest } from '../../src/modules/fetch.js';

test('fetch dest: dest/<inventory_hostname>/<src> as Ansible, relative dests from the playbook dir, flat names', () => {
  assert.deepEqual(fetchDest({ src: '/etc/hosts', dest: 'out' }, 'web1', '/pb'), {
    dest: '/pb/out/web1/etc/hosts',
    root: '/pb/out',
  });
  assert.equal(fetchDest({ src: '/etc/hosts', dest: '/b/', flat: true }, 'web1', '/pb').dest, '/b/hosts');
  assert.equal(fetchDest({ src: '/etc/hosts', dest: 'b/x.txt', flat: true }, 'web1', '/pb').dest, '/pb/b/x.txt');
  // an absolute src full of .. stays under the host's directory (normalised as Ansible does)
  assert.equal(fetchDest({ src: '/srv/../../../etc/passwd', dest: '/b' }, 'web1', '/pb').dest, '/b/web1/etc/passwd');
});

test('fetch dest: a relative src with .. or a host name that would leave dest is refused', () => {
  assert.throws(() => fetchDest({ src: '../../etc/passwd', dest: '/b' }, 'web1', '/pb'), /directory traversal/);
  for (const host of ['..', '.', 'a/../../x', ''])
    assert.throws(() => fetchDest({ src: '/etc/hosts', dest: '/b' }, host, '/pb'), /directory traversal/, host);
});
