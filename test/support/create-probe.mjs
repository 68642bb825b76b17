// A module task that makes 20 names through ctx.create, each held ~2 ms, counting in a shared
// buffer how many threads were inside a create at once (test/io/disk-slots.test.ts).
export default function run(payload, ctx) {
  const cells = new Int32Array(payload.sab); // [inside now, most inside at once]
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 20; i++)
    ctx.create(() => {
      const now = Atomics.add(cells, 0, 1) + 1;
      for (let m = Atomics.load(cells, 1); m < now && Atomics.compareExchange(cells, 1, m, now) !== m; m = Atomics.load(cells, 1));
      Atomics.wait(nap, 0, 0, 2);
      Atomics.sub(cells, 0, 1);
    });
  return true;
}
