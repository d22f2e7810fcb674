import { EXIT } from '../../executor/run.js';
import { labConfig, parseLabInit, parseLabProfile } from '../../lab/config.js';
import { labDown, labReboot, labReset, labStatus, labUp } from '../../lab/lab.js';
import { UsageError } from '../../core/errors.js';

/** Takes `--NAME VALUE` or `--NAME=VALUE` out of argv; undefined when absent. */
function takeOption(argv: string[], name: string, example: string): string | undefined {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const a = argv[i] as string;
  const value = a.includes('=') ? a.slice(name.length + 3) : argv[i + 1];
  if (value === undefined) throw new UsageError(`--${name} needs a value`, { hint: `--${name} ${example}` });
  argv.splice(i, a.includes('=') ? 1 : 2);
  return value;
}

export async function labCommand(args: string[]): Promise<number> {
  const cfg = labConfig();
  const argv = [...args];
  // `--init systemd` (or ORCH_LAB_INIT=systemd): hosts boot systemd as PID 1.
  const init = takeOption(argv, 'init', 'systemd');
  const initGiven = init !== undefined;
  if (init !== undefined) cfg.init = parseLabInit(init);
  // `--profile production`: a bastion and the hosts of inventory/production behind it (systemd by default).
  const profile = takeOption(argv, 'profile', 'production');
  if (profile !== undefined) {
    cfg.profile = parseLabProfile(profile);
    if (cfg.profile === 'production' && !initGiven && !process.env.ORCH_LAB_INIT) cfg.init = 'systemd';
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
      for (const { host, up, init } of hosts)
        out(`${host.name.padEnd(10)} ${host.address.padEnd(15)} ${init.padEnd(8)} ${up ? 'sshd answers' : 'DOWN'}\n`);
      return hosts.every((h) => h.up) ? EXIT.ok : EXIT.hostUnreachable;
    }
    default:
      throw new UsageError(`unknown lab command '${sub}'`, {
        hint: 'orch lab up [N] [--init systemd] | up --profile production | down | status | reset [--init systemd|initd] HOST... | reboot HOST...',
      });
  }
}
