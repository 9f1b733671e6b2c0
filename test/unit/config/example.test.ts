import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadRulesFile } from '../../../src/config/load.js';

const EXAMPLE = fileURLToPath(new URL('../../../rules/example.yaml', import.meta.url));

describe('rules/example.yaml', () => {
  it('loads with no environment variables set, using the defaults', async () => {
    const config = await loadRulesFile(EXAMPLE, {});
    expect(config.file).toBe(EXAMPLE);
    expect(Object.keys(config.sources)).toEqual(['main', 'shop']);
    expect(config.sources.main).toEqual({ name: 'main', kind: 'postgres', url: 'postgres://shadowcheck@127.0.0.1:5432/app' });
    expect(config.families.map((f) => f.name)).toEqual(['user-profile', 'user-settings', 'product']);
  });

  it('compiles durations, defaults and normalizers', async () => {
    const config = await loadRulesFile(EXAMPLE, {});
    const [profile, settings, product] = config.families;
    expect(profile).toMatchObject({ type: 'string', codec: 'json', key: ['id'], ttlMs: 300_000, maxStalenessMs: 300_000, clockSkewMs: 1_000, redact: ['email'], minConsistency: 0.999 });
    expect(profile?.normalize).toEqual({ email: [{ name: 'trim' }, { name: 'lowercase' }] });
    expect(profile?.pattern.glob).toBe('user:*');
    expect(settings).toMatchObject({ key: ['user_id'], table: 'app.user_settings', ttlMs: 600_000, maxStalenessMs: 600_000, exclude: ['created_at'] });
    expect(settings?.fields).toBeUndefined();
    expect(product).toMatchObject({ type: 'hash', key: ['sku'], ttlMs: 3_600_000, maxStalenessMs: 900_000 });
    expect(product?.normalize.price).toEqual([{ name: 'decimal', places: 2 }]);
  });

  it('takes the database URL from the environment when it is set', async () => {
    const config = await loadRulesFile(EXAMPLE, { DATABASE_URL: 'postgresql://app:s3cret@db.internal:5432/app' });
    expect(config.sources.main?.url).toBe('postgresql://app:s3cret@db.internal:5432/app');
  });
});
