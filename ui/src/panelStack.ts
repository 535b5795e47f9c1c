//! Which scoring panel owns the keyboard shortcuts when more than one is on screen.
//!
//! A sampled signing opens its panel over whatever the reviewer was doing, possibly another
//! panel (active or centralized QC). Shortcuts listen on the document so that Ctrl+Enter works
//! from anywhere; only the top panel may act on them, or one keystroke would save two exams.

interface Entry {
  id: number;
  priority: number;
}

const entries: Entry[] = [];
let nextId = 1;

export interface PanelSlot {
  isTop(): boolean;
  leave(): void;
}

/** Registers a panel; a higher `priority` (the random-QC overlay) wins, then the newest. */
export function enterPanel(priority = 0): PanelSlot {
  const entry: Entry = { id: nextId++, priority };
  entries.push(entry);
  return {
    isTop() {
      const top = entries.reduce<Entry | undefined>(
        (best, e) => (!best || e.priority > best.priority || (e.priority === best.priority && e.id > best.id) ? e : best),
        undefined,
      );
      return top === entry;
    },
    leave() {
      const i = entries.indexOf(entry);
      if (i >= 0) entries.splice(i, 1);
    },
  };
}

/** 1-9 from the key's position (so Shift+1 is still 1), or from the character: the digit a
 *  panel's shortcut toggles the criterion of. */
export function digitOf(e: KeyboardEvent): number | null {
  const m = /^(?:Digit|Numpad)([1-9])$/.exec(e.code) ?? /^([1-9])$/.exec(e.key);
  return m ? Number(m[1]) : null;
}

/** Whether a key goes to typing (a note, a text box), not to a panel's shortcuts. */
export function isTextEntry(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target instanceof HTMLTextAreaElement || target.isContentEditable) return true;
  return target instanceof HTMLInputElement && !["checkbox", "radio", "button", "submit"].includes(target.type);
}
