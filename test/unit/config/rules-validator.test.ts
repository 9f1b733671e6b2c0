/**
 * The standalone rules validator generated at build time must judge every document exactly as the
 * schema compiled at run time does (same verdict, same errors, which the messages quote), and is
 * used only when it was generated from the schema text in hand.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRulesValidatorSource, newRulesAjv, rulesValidator, schemaDigest } from '../../../src/config/rules-ajv.js';
import { RULES_SCHEMA_URL } from '../../../src/config/schema-validation.js';

const require = createRequire(import.meta.url);
const ROOT = new URL('../../../', import.meta.url);
let dir: string;
let schemaText: string;
let generatedPath: string;

beforeAll(async () => {
  // Inside the project, so that the generated code's require('ajv/dist/runtime/...') resolves.
  const cache = fileURLToPath(new URL('node_modules/.cache/', ROOT));
  await mkdir(cache, { recursive: true });
  dir = await mkdtemp(join(cache, 'sc-validator-'));
  schemaText = await readFile(RULES_SCHEMA_URL, 'utf8');
  generatedPath = join(dir, 'validator.cjs');
  await writeFile(generatedPath, generateRulesValidatorSource(schemaText));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function yamlFiles(folder: URL): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && /\.ya?ml$/.test(e.name)).map((e) => join(e.parentPath, e.name));
}

/** Every rules document in the repository, plus variants with one value of each family swapped for a wrong type. */
async function documents(): Promise<unknown[]> {
  const docs: unknown[] = [];
  for (const file of [...(await yamlFiles(new URL('test/', ROOT))), ...(await yamlFiles(new URL('rules/', ROOT)))]) {
    try {
      docs.push(parse(await readFile(file, 'utf8')));
    } catch {
      // Not YAML on purpose (bad-input fixtures): the schema never sees those.
    }
  }
  const example = parse(await readFile(new URL('rules/example.yaml', ROOT), 'utf8')) as { families: Record<string, unknown>[] };
  for (const [i, family] of example.families.entries()) {
    for (const key of Object.keys(family)) {
      for (const wrong of [42, 'x', null, [], { a: 1 }, true]) {
        const copy = structuredClone(example);
        (copy.families[i] as Record<string, unknown>)[key] = wrong;
        docs.push(copy);
      }
    }
  }
  return docs;
}

describe('the generated rules validator', () => {
  it('gives the compiled schema’s verdict and errors on every document', async () => {
    const generated = (require(generatedPath) as { validate: ValidateFunction }).validate;
    const compiled = newRulesAjv().compile(JSON.parse(schemaText) as object);
    const docs = await documents();
    expect(docs.length).toBeGreaterThan(100);
    let invalid = 0;
    for (const doc of docs) {
      const verdict = compiled(doc);
      if (!verdict) invalid++;
      expect(generated(doc)).toBe(verdict);
      expect(generated.errors ?? null).toEqual(compiled.errors ?? null);
    }
    // The corpus must exercise the error paths, not only valid files.
    expect(invalid).toBeGreaterThan(50);
  });

  it('is used when generated from the same schema text, and not after the schema changed', () => {
    const generated = (require(generatedPath) as { validate: ValidateFunction }).validate;
    expect(rulesValidator(schemaText, JSON.parse(schemaText) as object, generatedPath)).toBe(generated);
    const edited = `${schemaText}\n`;
    expect(schemaDigest(edited)).not.toBe(schemaDigest(schemaText));
    const fallback = rulesValidator(edited, JSON.parse(edited) as object, generatedPath);
    expect(fallback).not.toBe(generated);
    expect(fallback({ version: 1 })).toBe(false);
  });

  it('falls back to compiling when nothing was generated', () => {
    const validate = rulesValidator(schemaText, JSON.parse(schemaText) as object, join(dir, 'missing.cjs'));
    expect(validate({ version: 2 })).toBe(false);
  });
});
