/** A piscina task that does nothing: micro.ts measures the pool's per-task overhead with it. */
export default function noop(x: number): number {
  return x;
}
