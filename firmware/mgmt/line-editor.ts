// IOS-style line editing on a dumb terminal (serial console or pty): insert anywhere,
// backspace, Ctrl-A/E/B/F/D/K/U/W/X, arrows, history (Ctrl-P/N, up/down), Tab, `?`,
// Ctrl-Z and Ctrl-C (other control characters, line noise included, are ignored). Redraws with backspaces and spaces only, as a VT100 or a
// serial terminal without escape-sequence support both render correctly.

export type EditorAction =
  | { kind: 'submit'; line: string }
  | { kind: 'help'; line: string }
  | { kind: 'complete'; line: string }
  | { kind: 'ctrl-z'; line: string }
  | { kind: 'ctrl-c' };

const MAX_HISTORY = 20;

export class LineEditor {
  buffer = '';
  cursor = 0;
  private readonly history: string[] = [];
  private historyPos = -1;
  private draft = '';
  private esc = '';
  private lastWasCr = false;

  constructor(private readonly write: (text: string) => void) {}

  /** Starts a new line after the prompt (already written by the caller). */
  reset(text = ''): void {
    this.buffer = text;
    this.cursor = text.length;
    this.historyPos = -1;
    if (text) this.write(text);
  }

  /** Replaces the line shown after the prompt (Tab completion, history). */
  replace(text: string): void {
    this.write('\b'.repeat(this.cursor));
    const pad = Math.max(0, this.buffer.length - text.length);
    this.write(text + ' '.repeat(pad) + '\b'.repeat(pad));
    this.buffer = text;
    this.cursor = text.length;
  }

  /** Feeds one character (a string of length 1); returns an action when the line is done. */
  key(ch: string): EditorAction | undefined {
    if (this.esc) return this.escape(ch);
    const code = ch.charCodeAt(0);
    if (ch === '\n' && this.lastWasCr) {
      this.lastWasCr = false;
      return undefined;
    }
    this.lastWasCr = ch === '\r';
    switch (code) {
      case 0x0d: case 0x0a: {
        const line = this.buffer;
        this.write('\n');
        if (line.trim() !== '' && this.history[this.history.length - 1] !== line) {
          this.history.push(line);
          if (this.history.length > MAX_HISTORY) this.history.shift();
        }
        this.buffer = '';
        this.cursor = 0;
        this.historyPos = -1;
        return { kind: 'submit', line };
      }
      case 0x1b: this.esc = '\x1b'; return undefined;
      case 0x01: this.move(-this.cursor); return undefined; // Ctrl-A
      case 0x05: this.move(this.buffer.length - this.cursor); return undefined; // Ctrl-E
      case 0x02: this.move(-1); return undefined; // Ctrl-B
      case 0x06: this.move(1); return undefined; // Ctrl-F
      case 0x7f: case 0x08: this.deleteBack(1); return undefined;
      case 0x04: // Ctrl-D: delete the character at the cursor
        if (this.cursor < this.buffer.length) this.edit(this.buffer.slice(0, this.cursor) + this.buffer.slice(this.cursor + 1), this.cursor);
        return undefined;
      case 0x0b: this.edit(this.buffer.slice(0, this.cursor), this.cursor); return undefined; // Ctrl-K
      case 0x15: case 0x18: this.edit(this.buffer.slice(this.cursor), 0); return undefined; // Ctrl-U, Ctrl-X
      case 0x17: { // Ctrl-W: delete the word before the cursor
        const before = this.buffer.slice(0, this.cursor);
        const start = before.replace(/\S+\s*$/, '').length;
        this.edit(this.buffer.slice(0, start) + this.buffer.slice(this.cursor), start);
        return undefined;
      }
      case 0x10: this.historyStep(-1); return undefined; // Ctrl-P
      case 0x0e: this.historyStep(1); return undefined; // Ctrl-N
      case 0x09: return { kind: 'complete', line: this.buffer };
      case 0x1a: { // Ctrl-Z: IOS runs the line typed so far, then leaves configuration mode
        const line = this.buffer;
        this.write('^Z\n');
        if (line.trim() !== '' && this.history[this.history.length - 1] !== line) this.history.push(line);
        if (this.history.length > MAX_HISTORY) this.history.shift();
        this.buffer = '';
        this.cursor = 0;
        return { kind: 'ctrl-z', line };
      }
      case 0x03: { // Ctrl-C
        this.write('^C\n');
        this.buffer = '';
        this.cursor = 0;
        return { kind: 'ctrl-c' };
      }
      default:
        break;
    }
    if (ch === '?') {
      // IOS shows help for everything before the cursor.
      this.write('?\n');
      return { kind: 'help', line: this.buffer.slice(0, this.cursor) };
    }
    if (code < 0x20) return undefined;
    this.edit(this.buffer.slice(0, this.cursor) + ch + this.buffer.slice(this.cursor), this.cursor + 1);
    return undefined;
  }

  private escape(ch: string): EditorAction | undefined {
    this.esc += ch;
    const seq = this.esc;
    if (seq === '\x1b[' || seq === '\x1bO' || /^\x1b\[\d+$/.test(seq)) return undefined;
    this.esc = '';
    switch (seq) {
      case '\x1b[A': case '\x1bOA': this.historyStep(-1); break;
      case '\x1b[B': case '\x1bOB': this.historyStep(1); break;
      case '\x1b[C': case '\x1bOC': this.move(1); break;
      case '\x1b[D': case '\x1bOD': this.move(-1); break;
      case '\x1b[H': case '\x1bOH': case '\x1b[1~': this.move(-this.cursor); break;
      case '\x1b[F': case '\x1bOF': case '\x1b[4~': this.move(this.buffer.length - this.cursor); break;
      case '\x1b[3~':
        if (this.cursor < this.buffer.length) this.edit(this.buffer.slice(0, this.cursor) + this.buffer.slice(this.cursor + 1), this.cursor);
        break;
      default: break; // unknown sequences are ignored
    }
    return undefined;
  }

  private move(delta: number): void {
    const to = Math.max(0, Math.min(this.buffer.length, this.cursor + delta));
    if (to < this.cursor) this.write('\b'.repeat(this.cursor - to));
    else if (to > this.cursor) this.write(this.buffer.slice(this.cursor, to));
    this.cursor = to;
  }

  private deleteBack(n: number): void {
    if (this.cursor === 0) return;
    const k = Math.min(n, this.cursor);
    this.edit(this.buffer.slice(0, this.cursor - k) + this.buffer.slice(this.cursor), this.cursor - k);
  }

  /** Shows `next` with the cursor at `cursor`, redrawing only from the first change. */
  private edit(next: string, cursor: number): void {
    let common = 0;
    while (common < next.length && common < this.buffer.length && next[common] === this.buffer[common]) common++;
    common = Math.min(common, this.cursor, cursor);
    this.write('\b'.repeat(this.cursor - common));
    const tail = next.slice(common);
    const pad = Math.max(0, this.buffer.length - next.length);
    this.write(tail + ' '.repeat(pad) + '\b'.repeat(pad + next.length - cursor));
    this.buffer = next;
    this.cursor = cursor;
  }

  private historyStep(dir: number): void {
    if (this.history.length === 0) return;
    if (this.historyPos === -1) {
      if (dir > 0) return;
      this.draft = this.buffer;
      this.historyPos = this.history.length;
    }
    const pos = this.historyPos + dir;
    if (pos < 0) return;
    if (pos >= this.history.length) {
      this.historyPos = -1;
      this.replace(this.draft);
      return;
    }
    this.historyPos = pos;
    this.replace(this.history[pos]!);
  }
}
