import { TokenBucket } from 'limiter';

/** Caps keys per second across the whole run: every SCAN call (one unit before it is sent, one per key it returns) and every key read draw from it. */
export interface Throttle {
  take(keys: number): Promise<void>;
}

export function createThrottle(keysPerSecond: number | undefined): Throttle {
  if (keysPerSecond === undefined) return { take: async () => {} };
  // A bucket of one second's worth allows a short burst and never more than `rate` on average.
  const bucket = new TokenBucket({ bucketSize: keysPerSecond, tokensPerInterval: keysPerSecond, interval: 'second' });
  return {
    async take(keys: number) {
      // A request larger than the bucket is taken in bucket-sized pieces, each waiting its turn.
      for (let left = keys; left > 0; left -= keysPerSecond) {
        await bucket.removeTokens(Math.min(left, keysPerSecond));
      }
    },
  };
}
