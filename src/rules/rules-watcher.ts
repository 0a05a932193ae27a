// Watches a rules file and reloads it on change. It watches the directory, not the
// file: editors often save by writing a temporary file and renaming it over the old
// one, which would leave a watch on the file itself pointing at a deleted inode.

import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ReplaceResult } from './results.js';

export interface WatchHandlers {
  /** A changed file was accepted and is active everywhere. */
  onReload?: (version: number, result: Extract<ReplaceResult, { ok: true }>) => void;
  /** A changed file was rejected (`line:col: message` errors) or could not be installed. */
  onError?: (errors: string[]) => void;
  /** Quiet time after the last change before reading the file (default 100 ms). */
  debounceMs?: number;
}

interface WatcherDeps {
  reload: (text: string) => Promise<ReplaceResult>;
  currentText: () => string;
  handlers: WatchHandlers;
  onClose: () => void;
}

export class RulesWatcher {
  private readonly file: string;
  private readonly base: string;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private firstEventAt = 0;
  private closed = false;
  /** The last text handed to reload: a rejected file is reported once, not on every touch. */
  private lastTried: string | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(file: string, private readonly deps: WatcherDeps) {
    this.file = path.resolve(file);
    this.base = path.basename(this.file);
    try {
      this.watcher = watch(path.dirname(this.file), { persistent: false }, (_event, name) => {
        const n = name === null ? null : name.toString();
        // `..data`: Kubernetes swaps a symlinked directory to update a mounted ConfigMap.
        if (n === null || n === this.base || n.startsWith('..')) this.schedule();
      });
      this.watcher.on('error', (e) => this.report([`watching ${this.file} failed: ${e.message}`]));
    } catch (e) {
      this.report([`cannot watch ${this.file}: ${(e as Error).message}`]);
    }
  }

  /** Resolves once the reloads started so far have finished (for tests and shutdown). */
  settled(): Promise<void> {
    return this.running;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.watcher?.close();
    this.watcher = null;
    this.deps.onClose();
  }

  private schedule(): void {
    if (this.closed) return;
    const quiet = this.deps.handlers.debounceMs ?? 100;
    const now = Date.now();
    if (this.timer !== null) clearTimeout(this.timer);
    else this.firstEventAt = now;
    // A file rewritten without pause must still be read: wait for quiet, but not forever.
    const wait = Math.max(0, Math.min(quiet, this.firstEventAt + 10 * quiet - now));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.running.then(() => this.check());
    }, wait);
  }

  private async check(): Promise<void> {
    if (this.closed) return;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      // Mid-rename the file may be briefly missing; the rename brings another event.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.report([`cannot read ${this.file}: ${(e as Error).message}`]);
      return;
    }
    // Saving truncates before it writes: an empty file is a save in progress, not "no
    // rules" (write `rules: []` for that), and its completion brings another event.
    if (text.trim() === '') return;
    if (this.closed || text === this.lastTried || text === this.deps.currentText()) return;
    this.lastTried = text;
    try {
      const r = await this.deps.reload(text);
      if (!r.ok) this.report(r.errors);
      else {
        try {
          this.deps.handlers.onReload?.(r.version, r);
        } catch {
          // A throwing handler must not stop the watcher.
        }
      }
    } catch (e) {
      // A failed install may succeed on the next save: allow the same text again.
      this.lastTried = null;
      this.report([(e as Error).message]);
    }
  }

  private report(errors: string[]): void {
    try {
      this.deps.handlers.onError?.(errors);
    } catch {
      // A throwing handler must not stop the watcher.
    }
  }
}
