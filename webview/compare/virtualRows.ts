/**
 * The rows of a long table, made only while in view: its scroll box holds a window of rows between
 * two spacer rows that keep the scrollbar's length. Rows are one line tall (the tables' cells do
 * not wrap), so a row's place is its index times the row height. Short tables are made whole.
 */

/** Tables with fewer rows are made whole. */
export const VIRTUAL_FROM = 60;
/** Rows made above and below the visible ones, so a scroll shows made rows before the next frame. */
const OVERSCAN = 10;
const FALLBACK_ROW_HEIGHT = 26;

export class VirtualRows {
  private readonly scroller: HTMLElement;
  private body: HTMLTableSectionElement | null = null;
  private count = 0;
  private make: (i: number) => HTMLTableRowElement = () => document.createElement('tr');
  private rowHeight = 0;
  private firstIndex = 1;
  private readonly made = new Map<number, HTMLTableRowElement>();
  private top: HTMLTableRowElement | null = null;
  private bottom: HTMLTableRowElement | null = null;
  private frame = 0;

  constructor(scroller: HTMLElement) {
    this.scroller = scroller;
    scroller.addEventListener('scroll', () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(scroller);
  }

  /**
   * Fills `body` with `count` rows made by make(i), `columns` wide; `headRows` header rows come
   * before them (for aria-rowindex).
   */
  show(body: HTMLTableSectionElement, count: number, columns: number, headRows: number, make: (i: number) => HTMLTableRowElement): void {
    this.made.clear();
    this.count = count;
    this.make = make;
    this.firstIndex = headRows + 1;
    this.scroller.classList.toggle('virtual', count >= VIRTUAL_FROM);
    if (count < VIRTUAL_FROM) {
      this.body = null;
      for (let i = 0; i < count; i++) body.appendChild(make(i));
      return;
    }
    this.body = body;
    this.top = spacer(columns);
    this.bottom = spacer(columns);
    body.append(this.top, this.bottom);
    this.update();
  }

  private schedule(): void {
    if (this.frame || !this.body) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.update();
    });
  }

  /** Makes the rows in view (and a few around them), drops the others, and sizes the spacers. */
  private update(): void {
    const body = this.body;
    if (!body || !this.top || !this.bottom) return;
    if (!this.rowHeight) {
      const sample = this.made.values().next().value as HTMLTableRowElement | undefined;
      if (sample?.offsetHeight) this.rowHeight = sample.offsetHeight;
    }
    const rh = this.rowHeight || FALLBACK_ROW_HEIGHT;
    const viewTop = this.scroller.scrollTop - body.offsetTop;
    // the box grows to its max-height once the rows are in: never plan for less than that
    const viewHeight = Math.max(this.scroller.clientHeight, Math.min(window.innerHeight * 0.7, 720));
    const first = Math.max(0, Math.min(this.count, Math.floor(viewTop / rh) - OVERSCAN));
    const last = Math.max(first, Math.min(this.count, Math.ceil((viewTop + viewHeight) / rh) + OVERSCAN));
    for (const [i, tr] of this.made) {
      if (i < first || i >= last) {
        tr.remove();
        this.made.delete(i);
      }
    }
    let prev: ChildNode = this.top;
    for (let i = first; i < last; i++) {
      let tr = this.made.get(i);
      if (!tr) {
        tr = this.make(i);
        tr.setAttribute('aria-rowindex', String(this.firstIndex + i));
        this.made.set(i, tr);
      }
      if (prev.nextSibling !== tr) body.insertBefore(tr, prev.nextSibling);
      prev = tr;
    }
    setHeight(this.top, first * rh);
    setHeight(this.bottom, (this.count - last) * rh);
    if (!this.rowHeight) {
      const sample = this.made.values().next().value as HTMLTableRowElement | undefined;
      // measured once the table is laid out (a hidden tab has no sizes yet): place the rows again
      if (sample?.offsetHeight) {
        this.rowHeight = sample.offsetHeight;
        if (this.rowHeight !== rh) this.schedule();
      }
    }
  }
}

function spacer(columns: number): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.className = 'spacer';
  tr.setAttribute('aria-hidden', 'true');
  const td = document.createElement('td');
  td.colSpan = columns;
  tr.appendChild(td);
  return tr;
}

function setHeight(tr: HTMLTableRowElement, px: number): void {
  tr.hidden = px <= 0;
  (tr.firstChild as HTMLElement).style.height = `${px}px`;
}
