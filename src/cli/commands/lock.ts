import { resolve } from 'node:path';
import { UsageError } from '../../core/errors.js';
import { forceReleaseLock, readHolder } from '../../executor/lock.js';
import { EXIT } from '../../executor/run.js';
import { STATE_DIR } from './apply.js';

export async function lockCommand(argv: string[]): Promise<number> {
  const [sub, name] = argv;
  if ((sub !== 'status' && sub !== 'release') || !name) throw new UsageError('usage: orch lock status|release INVENTORY');
  const dir = resolve(STATE_DIR);
  if (sub === 'status') {
    const h = readHolder(dir, name);
    process.stdout.write(h ? `locked by ${h.user}@${h.host} pid ${h.pid} since ${h.since}: ${h.command}\n` : `${name}: not locked\n`);
    return EXIT.ok;
  }
  const h = forceReleaseLock(dir, name);
  process.stdout.write(h ? `released lock held by ${h.user}@${h.host} pid ${h.pid} (${h.command})\n` : `${name}: was not locked\n`);
  return EXIT.ok;
}
