/**
 * Notices for the operator while `wrapp trace --tui` may have the screen: written at once
 * when the view is not up, held while it is (they would break it), and written in order
 * once it is down.
 *
 * @module
 */

/** Notices that wait while the full-screen view is up. */
export class ScreenNotices {
  /** Writes a notice at once, screen or not (e.g. `stderrNotice`). */
  readonly print: (text: string) => void;
  readonly #held: string[] = [];
  #up = false;

  /** Notices go to `print`, or wait while the screen is up. */
  constructor(print: (text: string) => void) {
    this.print = print;
  }

  /** Write `text` now, or once the screen is down. */
  readonly notice = (text: string): void => {
    if (this.#up) this.#held.push(text);
    else this.print(text);
  };

  /** Whether the view has the screen. */
  get up(): boolean {
    return this.#up;
  }

  /** The view takes the screen: notices wait from now on. */
  screenUp(): void {
    this.#up = true;
  }

  /** The view gave the screen back: write what waited. */
  screenDown(): void {
    this.#up = false;
    for (const text of this.#held.splice(0)) this.print(text);
  }
}
