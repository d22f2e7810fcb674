import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unifiedDiff } from '../../src/ui/diff.js';

test('unifiedDiff: a content change renders as a unified diff of before and after, without the Index line', () => {
  const text = unifiedDiff({ path: '/etc/motd', before: 'a\nb\n', after: 'a\nc\n' });
  assert.equal(
    text,
    '===================================================================\n--- /etc/motd\tbefore\n+++ /etc/motd\tafter\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n',
  );
});

test('unifiedDiff: an attribute change (header) renders as one removed and one added line', () => {
  assert.equal(
    unifiedDiff({ path: '/etc/motd', header: 'mode', before: '0644', after: '0600' }),
    '--- /etc/motd (mode)\n-0644\n+0600\n',
  );
});
