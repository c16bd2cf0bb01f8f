/**
 * {@linkcode EventQueue}: the FIFO the Redis sink keeps waiting events in.
 *
 * @module
 */

/** A FIFO of items kept as the arrays they arrived in, so batches are cheap to add and take. */
export class EventQueue<T> {
  #chunks: T[][] = [];
  #offset = 0;
  #length = 0;

  /** Items in the queue. */
  get length(): number {
    return this.#length;
  }

  /** Add `items` at the end (the array is kept, not copied). */
  push(items: T[]): void {
    if (items.length === 0) return;
    this.#chunks.push(items);
    this.#length += items.length;
  }

  /** Put `items` back at the front, ahead of everything queued. */
  unshift(items: T[]): void {
    if (items.length === 0) return;
    if (this.#offset > 0) {
      this.#chunks[0] = this.#chunks[0].slice(this.#offset);
      this.#offset = 0;
    }
    this.#chunks.unshift(items);
    this.#length += items.length;
  }

  /** Remove and return up to `n` items from the front. */
  take(n: number): T[] {
    const out: T[] = [];
    while (out.length < n && this.#chunks.length > 0) {
      const chunk = this.#chunks[0];
      const end = Math.min(chunk.length, this.#offset + n - out.length);
      for (let i = this.#offset; i < end; i++) out.push(chunk[i]);
      this.#offset = end;
      if (end === chunk.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
    this.#length -= out.length;
    return out;
  }

  /** Remove and return every item. */
  takeAll(): T[] {
    return this.take(this.#length);
  }
}
