/**
 * Go's text/tabwriter (left-aligned, space padding), which is how kubectl
 * lays out both `get` tables and `describe` text. A cell is text ended by a
 * tab; the text after a line's last tab is not a cell and is never padded.
 * A column is aligned only over a *block* of consecutive lines that all
 * have a cell in it, so a line without tabs ("Containers:") starts new
 * blocks — exactly why describe's sections align among themselves.
 *
 * `flush()` ends the text formatted together (describe flushes before its
 * Events table); `remember` keeps the widths of earlier flushes as minimums
 * (tabwriter.RememberWidths: kubectl get -w keeps its columns).
 */
export interface TabWriterOptions {
  minwidth: number;
  padding: number;
  remember?: boolean;
}

/** kubectl get: printers.GetNewTabWriter */
export const TABLE_WRITER: TabWriterOptions = { minwidth: 6, padding: 3 };
/** kubectl describe: tabbedString */
export const DESCRIBE_WRITER: TabWriterOptions = { minwidth: 0, padding: 2 };

const width = (s: string) => [...s].length;

export class TabWriter {
  private pending = '';
  private out = '';
  private remembered: number[] = [];

  constructor(private readonly opts: TabWriterOptions) {}

  write(text: string): this {
    this.pending += text;
    return this;
  }

  /** Format what was written since the last flush; returns everything formatted so far and clears it. */
  flush(): string {
    this.formatPending();
    const s = this.out;
    this.out = '';
    return s;
  }

  private formatPending(): void {
    if (!this.pending) return;
    const text = this.pending;
    this.pending = '';
    const endsWithNewline = text.endsWith('\n');
    const lines = (endsWithNewline ? text.slice(0, -1) : text).split('\n').map((l) => l.split('\t'));
    const widths: number[] = [];
    const outLines: string[] = [];
    const writeLines = (line0: number, line1: number) => {
      for (let i = line0; i < line1; i++) {
        const cells = lines[i];
        let s = '';
        cells.forEach((c, j) => {
          s += c;
          if (j < widths.length && j < cells.length - 1) s += ' '.repeat(Math.max(0, widths[j] - width(c)));
        });
        outLines[i] = s;
      }
    };
    const format = (line0: number, line1: number): void => {
      const column = widths.length;
      for (let t = line0; t < line1; t++) {
        if (column >= lines[t].length - 1) continue;
        // a block of lines with a cell in this column starts here
        writeLines(line0, t);
        line0 = t;
        let w = this.opts.minwidth;
        if (this.opts.remember && column < this.remembered.length) w = Math.max(w, this.remembered[column]);
        for (; t < line1; t++) {
          if (column >= lines[t].length - 1) break;
          w = Math.max(w, width(lines[t][column]) + this.opts.padding);
        }
        if (this.opts.remember) this.remembered[column] = Math.max(this.remembered[column] ?? 0, w);
        widths.push(w);
        format(line0, t);
        widths.pop();
        line0 = t;
        t--; // the for loop's t++ resumes at the line that ended the block
      }
      writeLines(line0, line1);
    };
    format(0, lines.length);
    this.out += outLines.join('\n') + (endsWithNewline ? '\n' : '');
  }
}

/** Format tab-separated text in one go. */
export function tabbed(text: string, opts: TabWriterOptions = DESCRIBE_WRITER): string {
  return new TabWriter(opts).write(text).flush();
}
