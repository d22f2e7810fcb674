import { setFlagsFromString } from 'node:v8';

/**
 * Imported first by the CLI: V8 flags for a run (README, Benchmark). V8 reads both when it uses them (at each
 * collection; when a function's budget is reset), so setting them now takes effect.
 *
 * V8 lets the old generation grow to several times what survived its last full collection before it collects
 * again: on a run over many hosts that is hundreds of megabytes of garbage (per-task objects that live long
 * enough to be promoted), 390 MB at 960 hosts with ~90 MB alive. A growing factor of 1.25 keeps the peak near
 * 280 MB there for a few percent more CPU.
 *
 * V8 compiles a function with its optimizing compiler (TurboFan, on another thread) once it has run ~66 KB of
 * bytecode: in a run of seconds that is most of orch, and on a first run of the benchmark at 50 hosts the
 * compiling was a third of the controller's CPU. 4 times that budget leaves it to the code that stays hot
 * (ssh2's packets, the executor's loop); 16 times saved more at 50 hosts but nothing at 200.
 */
setFlagsFromString('--heap-growing-percent=25');
setFlagsFromString('--interrupt-budget=262144');
