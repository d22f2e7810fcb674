import { EXIT } from '../../executor/run.js';
import { labConfig, labDown, labReset, labStatus, labUp } from '../../lab/lab.js';
import { UsageError } from '../../core/errors.js';

export async function labCommand(argv: string[]): Promise<number> {
  const [sub = 'status', arg] = argv;
  const cfg = labConfig();
  const out = (s: string) => process.stdout.write(s);
  switch (sub) {
    case 'up':
      await labUp(cfg, arg === undefined ? 3 : Number(arg), out);
      return EXIT.ok;
    case 'reset':
      await labReset(cfg, argv.slice(1));
      out(`lab: reset ${argv.slice(1).join(', ')}\n`);
      return EXIT.ok;
    case 'down':
      await labDown(cfg, out);
      return EXIT.ok;
    case 'status': {
      const hosts = await labStatus(cfg);
      if (hosts.length === 0) out('lab: no hosts (orch lab up N)\n');
      for (const { host, up } of hosts) out(`${host.name.padEnd(10)} ${host.address.padEnd(15)} ${up ? 'sshd answers' : 'DOWN'}\n`);
      return hosts.every((h) => h.up) ? EXIT.ok : EXIT.hostUnreachable;
    }
    default:
      throw new UsageError(`unknown lab command '${sub}'`, { hint: 'orch lab up [N] | down | status | reset HOST...' });
  }
}
