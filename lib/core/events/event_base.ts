/**
 * The fields every {@linkcode Event} kind shares, apart so the files of each kind can
 * extend it without importing the union that lists them.
 *
 * @module
 */

/** Fields every event has. */
export interface EventBase {
  /** When wrapp observed the event (read the line, saw the exit), ms since the Unix epoch, fractional. */
  readonly time: number;
}
