import type { Block, Item, Play, Task } from '../playbook/model.js';
import type { PlayVars } from './scope.js';
import type { RunState } from './state.js';

/**
 * What the parts of a play's run share (play.ts runs the items; blocks.ts, includes.ts, handlers.ts, meta.ts and
 * play-facts.ts take this and call back into it).
 */
export interface PlayContext {
  readonly rs: RunState;
  readonly play: Play;
  /** the current batch's play variables */
  pv: PlayVars;
  /** end_play, max_fail_percentage: no new task starts */
  aborted: boolean;
  readonly stopping: boolean;
  /** included task files, loaded once per play */
  readonly includeCache: Map<string, Item[]>;
  /** public include_role blocks whose role joined the play (blocks.ts) */
  readonly published: Set<Block>;
  /** ids for tasks loaded at run time (dynamic includes): far above the loader's, one per task */
  nextDynamicId(): number;
  /** hosts where handlers left pending by an earlier run were found (their file is removed once run) */
  readonly hadPending: Set<string>;
  /** pending handlers read along with the facts, per host (restorePending then needs no round trip) */
  readonly pendingRead: Map<string, string[]>;
  /** the name under which this play's pending handlers are kept on the hosts */
  readonly key: string;
  /** the hosts still running */
  active(hosts: string[]): string[];
  /** run items on hosts; the hosts that failed there (and were not rescued) */
  runItems(items: Item[], hosts: string[]): Promise<Set<string>>;
  runTask(task: Task, hosts: string[], handler?: boolean): Promise<Set<string>>;
}
