/**
 * The async iterators subscriptions return. Not async generators: a generator waiting for the
 * next event cannot be ended until that event arrives (its `return()` is queued behind the
 * pending await), so an unsubscribed client would hold its slot until the topic next fires.
 * These end at once: `return()` ends the source, which settles any pending `next()`.
 */

export interface LiveIteratorOptions<T, R> {
  /** The first value (the current state), read after the source is subscribed. */
  initial?: () => Promise<R>;
  /** Each event to a value, or undefined to skip it. */
  map: (event: T) => R | undefined | Promise<R | undefined>;
}

export function liveIterator<T, R>(source: AsyncIterator<T>, opts: LiveIteratorOptions<T, R>): AsyncIterableIterator<R> {
  let initial = opts.initial ?? null;
  let closed = false;
  const done = (): IteratorResult<R> => ({ value: undefined, done: true });
  const end = async (): Promise<IteratorResult<R>> => {
    if (!closed) {
      closed = true;
      await source.return?.();
    }
    return done();
  };
  const it: AsyncIterableIterator<R> = {
    async next() {
      if (closed) return done();
      if (initial) {
        const read = initial;
        initial = null;
        try {
          return { value: await read(), done: false };
        } catch (err) {
          await end();
          throw err;
        }
      }
      for (;;) {
        let r: IteratorResult<T>;
        try {
          r = await source.next();
        } catch (err) {
          await end();
          throw err;
        }
        if (r.done || closed) return end();
        const value = await opts.map(r.value);
        if (closed) return done();
        if (value !== undefined) return { value, done: false };
      }
    },
    return: end,
    async throw(err?: unknown) {
      await end();
      throw err instanceof Error ? err : new Error(String(err));
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}
