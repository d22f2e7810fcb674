import { EXIT } from '../../executor/run.js';
import { labConfig, labDown, labReboot, labReset, labStatus, labUp, parseLabInit } from '../../lab/lab.js';
import { UsageError } from '../../core/errors.js';

export async function labCommand(argv: string[]): Promise<number> {
  const cfg = labConfig();
  // `--init systemd` (or ORCH_LAB_INIT=systemd): hosts boot systemd as PID 1.
  let initGiven = false;
  const i = argv.findIndex((a) => a === '--init' || a.startsWith('--init='));
  if (i >= 0) {
    const a = argv[i] as string;
    const value = a.includes('=') ? a.slice('--init='.length) : argv[i + 1];
    if (value === undefined) throw new UsageError('--init needs a value', { hint: '--init systemd' });
    cfg.init = parseLabInit(value);
    initGiven = true;
    argv = [...argv.slice(0, i), ...argv.slice(i + (a.includes('=') ? 1 : 2))];
  }
  const [sub = 'status', arg] = argv;
  const out = (s: string) => process.stdout.write(s);
  switch (sub) {
    case 'up':
      await labUp(cfg, arg === undefined ? 3 : Number(arg), out);
      return EXIT.ok;
    case 'reset':
      // --init switches the hosts' init (the test of systemd hosts borrows one host of the test lab).
      await labReset(cfg, argv.slice(1), initGiven ? cfg.init : undefined);
      out(`lab: reset ${argv.slice(1).join(', ')}\n`);
      return EXIT.ok;
    case 'reboot':
      await labReboot(cfg, argv.slice(1));
      out(`lab: rebooted ${argv.slice(1).join(', ')}\n`);
      return EXIT.ok;
    case 'down':
      await labDown(cfg, out);
      return EXIT.ok;
    case 'status': {
      const hosts = await labStatus(cfg);
      if (hosts.length === 0) out('lab: no hosts (orch lab up N)\n');
      for (const { host, up, init } of hosts) out(`${host.name.padEnd(10)} ${host.address.padEnd(15)} ${init.padEnd(8)} ${up ? 'sshd answers' : 'DOWN'}\n`);
      return hosts.every((h) => h.up) ? EXIT.ok : EXIT.hostUnreachable;
    }
    default:
      throw new UsageError(`unknown lab command '${sub}'`, { hint: 'orch lab up [N] [--init systemd] | down | status | reset [--init systemd|initd] HOST... | reboot HOST...' });
  }
}
