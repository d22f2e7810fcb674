import { clearPending, loadPending, savePending } from './pending-handlers.js';
import type { PlayContext } from './play-context.js';

/* Handlers: flushed after each section, kept on the host when they could not run. */

export async function flushHandlers(pc: PlayContext, batch: string[]): Promise<void> {
  const { rs, play } = pc;
  const notifiedAny = batch.some((h) => (rs.hosts.get(h)?.notified.size ?? 0) > 0);
  if (!notifiedAny) return;
  const ran: string[] = [];
  for (const handler of play.handlers) {
    const names = [
      handler.name,
      ...handler.listen,
      ...(handler.role ? [`${handler.role.name} : ${handler.name}`] : []),
    ];
    // force_handlers: a host that failed still runs what it notified (not an unreachable one)
    const eligible = play.forceHandlers ? batch.filter((h) => !rs.hosts.get(h)?.unreachable) : pc.active(batch);
    const targets = eligible.filter((h) => names.some((n) => rs.hosts.get(h)?.notified.has(n)));
    if (targets.length === 0) continue;
    ran.push(handler.name);
    await pc.runTask(handler, targets, true);
  }
  const known = new Set(
    play.handlers.flatMap((h) => [h.name, ...h.listen, ...(h.role ? [`${h.role.name} : ${h.name}`] : [])]),
  );
  await Promise.all(
    batch.map(async (h) => {
      const hs = rs.hosts.get(h);
      if (!hs) return;
      for (const n of hs.notified)
        if (!known.has(n))
          rs.emit({ type: 'warning', host: h, msg: `notified handler '${n}' does not exist in this play` });
      const left = [...hs.notified].filter((n) => known.has(n));
      hs.notified.clear();
      await keepOrClearPending(pc, h, hs.active && !pc.stopping ? [] : left);
    }),
  );
  if (ran.length > 0) rs.emit({ type: 'handler_flush', handlers: ran });
}

/** Handlers an earlier run notified here and never ran: notified again now. */
export async function restorePending(pc: PlayContext, batch: string[]): Promise<void> {
  const { rs } = pc;
  await Promise.all(
    pc.active(batch).map((h) =>
      rs.limit(async () => {
        const names = pc.pendingRead.get(h) ?? (await loadPending(rs, h, pc.key).catch(() => []));
        pc.pendingRead.delete(h);
        if (names.length === 0) return;
        pc.hadPending.add(h);
        for (const n of names) rs.hosts.get(h)?.notified.add(n);
        rs.emit({
          type: 'warning',
          host: h,
          msg: `handlers notified by an earlier run that did not finish will run in this play: ${names.join(', ')}`,
        });
      }),
    ),
  );
}

/** After a flush: handlers that could not run (host failed, run interrupted) are stored on the host. */
export async function keepOrClearPending(pc: PlayContext, host: string, left: string[]): Promise<void> {
  const hs = pc.rs.hosts.get(host);
  if (!hs || hs.unreachable || pc.rs.opts.check) return;
  try {
    if (left.length > 0) {
      await savePending(pc.rs, host, pc.key, left);
      pc.hadPending.add(host);
      pc.rs.emit({
        type: 'warning',
        host,
        msg: `handlers not run because the host failed or the run stopped: ${left.join(', ')}; kept on the host, they run at the next run of this play`,
      });
    } else if (pc.hadPending.delete(host)) await clearPending(pc.rs, host, pc.key);
  } catch (err) {
    pc.rs.emit({
      type: 'warning',
      host,
      msg: `could not keep pending handlers (${left.join(', ')}) on the host: ${(err as Error).message}`,
    });
  }
}
