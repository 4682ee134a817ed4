// The registry of debug flags: which `debug crypto <class> [error]` are on, box-wide as on
// IOS (the output goes to the logging destinations, not to the terminal that typed it).
// It is the bus's debug gate, so producers skip building lines nobody will see.
import { DEBUG_CLASSES, type DebugClass } from '../lib/event-bus.js';
import type { DebugMode } from '../cli/logging-view.js';


export class DebugFlags {
  private readonly flags = new Map<DebugClass, DebugMode>();
  private listeners: Array<() => void> = [];

  set(cls: DebugClass, mode: DebugMode | undefined): void {
    if (mode) this.flags.set(cls, mode);
    else this.flags.delete(cls);
    for (const l of this.listeners) l();
  }

  get(cls: DebugClass): DebugMode | undefined {
    return this.flags.get(cls);
  }

  /** `undebug all` / `no debug all`. */
  clear(): void {
    this.flags.clear();
    for (const l of this.listeners) l();
  }

  any(): boolean {
    return this.flags.size > 0;
  }

  /** Does a line of `cls` (an error line when `error`) pass the flags? */
  passes(cls: DebugClass, error: boolean): boolean {
    const m = this.flags.get(cls);
    return m === 'all' || (m === 'error' && error);
  }

  /** A gate for EventBus.setDebugGate. */
  gate(): (cls: DebugClass, error: boolean) => boolean {
    return (cls, error) => this.passes(cls, error);
  }

  on(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => { this.listeners = this.listeners.filter((l) => l !== listener); };
  }

  /** Flags in the order `show debugging` lists them. */
  entries(): Array<[DebugClass, DebugMode]> {
    return DEBUG_CLASSES.flatMap((c) => {
      const m = this.flags.get(c);
      return m ? [[c, m] as [DebugClass, DebugMode]] : [];
    });
  }
}
