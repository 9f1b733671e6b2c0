import { describe, expect, it } from 'vitest';
import { buildDemoPlan, closingTip } from '../../../src/demo/plan.js';
import { demoTargets } from '../../../src/demo/seed.js';

describe('demo: the closing tip', () => {
  it('names the Redis the demo seeded, from SHADOWCHECK_DEMO_REDIS_URL, with its password masked', () => {
    const { redisUrl } = demoTargets({ SHADOWCHECK_DEMO_REDIS_URL: 'redis://demo:s3cret-pw@cache.internal:6380/7' });
    const tip = closingTip(redisUrl);
    expect(tip).toContain('--redis redis://demo:');
    expect(tip).toContain('@cache.internal:6380/7 demo:user:1801');
    expect(tip).not.toContain('s3cret-pw');
    expect(tip).not.toContain('127.0.0.1:6379/13');
  });

  it('names the default database when no URL is set, and the story no longer carries a fixed one', () => {
    expect(closingTip(demoTargets({}).redisUrl)).toContain('--redis redis://127.0.0.1:6379/13 demo:user:1801');
    expect(buildDemoPlan().story.join('\n')).not.toContain('redis://');
  });
});
