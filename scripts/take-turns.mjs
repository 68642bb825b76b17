// For the floor scripts (create-floor.mjs, read-floor.mjs): `inTurn(fn)` runs fn holding a mutex
// shared by every thread given the same 4-byte SharedArrayBuffer, as chunkvault's workers take
// turns making names (src/io/disk-slots.ts holdCreate); with `turns` false it just runs fn.
export function takeTurns(sab, turns) {
  const cells = new Int32Array(sab);
  return (fn) => {
    if (!turns) return fn();
    while (Atomics.compareExchange(cells, 0, 0, 1) !== 0) Atomics.wait(cells, 0, 1);
    try {
      return fn();
    } finally {
      Atomics.store(cells, 0, 0);
      Atomics.notify(cells, 0, 1);
    }
  };
}
