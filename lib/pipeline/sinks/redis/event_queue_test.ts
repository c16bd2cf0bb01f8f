import assert from "node:assert/strict";
import { EventQueue } from "./event_queue.ts";

Deno.test("EventQueue takes in arrival order across chunks, and puts back in front", () => {
  const queue = new EventQueue<number>();
  queue.push([1, 2, 3]);
  queue.push([]);
  queue.push([4, 5]);
  assert.equal(queue.length, 5);
  assert.deepEqual(queue.take(2), [1, 2]);
  queue.unshift([0]); // a batch given back goes ahead of what waits
  assert.deepEqual(queue.take(3), [0, 3, 4]);
  queue.push([6]);
  assert.deepEqual(queue.takeAll(), [5, 6]);
  assert.equal(queue.length, 0);
  assert.deepEqual(queue.take(1), []);
});
