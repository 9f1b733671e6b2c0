/**
 * From proposed families to the file's text: overlapping patterns resolved (the family with more
 * keys stays), names made unique, the YAML rendered, validated by the project's own rules loader,
 * and each family's query run once through its loader. A family that fails is left out and named
 * in the footer; the text returned always validates.
 */
import { parseRules } from '../config/load.js';
import { compilePattern } from '../config/key-pattern.js';
import { patternsOverlap } from '../config/pattern-overlap.js';
import { ExitCode, RulesError, ShadowcheckError, UsageError } from '../errors.js';
import type { FamilyProposal } from './proposal.js';
import type { SourceRows } from './probe.js';
import { renderProposal, type ProposalDocument } from './render.js';

export interface LeftOut {
  pattern: string;
  keys: number;
  reason: string;
}

/** Keeps the first of overlapping families (they come most keys first); the others are left out. */
export function withoutOverlaps(families: readonly FamilyProposal[]): { kept: FamilyProposal[]; dropped: LeftOut[] } {
  const kept: FamilyProposal[] = [];
  const dropped: LeftOut[] = [];
  for (const f of families) {
    const other = kept.find((k) => patternsOverlap(compilePattern(k.pattern), compilePattern(f.pattern)));
    if (other === undefined) kept.push(f);
    else dropped.push({ pattern: f.pattern, keys: f.keyCount, reason: `overlaps ${other.pattern}, which has more keys (a key may belong to one family only)` });
  }
  return { kept, dropped };
}

/** `user`, `user` → `user`, `user-2`. */
export function uniqueNames(families: readonly FamilyProposal[]): FamilyProposal[] {
  const used = new Set<string>();
  return families.map((f) => {
    let name = f.name;
    for (let n = 2; used.has(name); n++) name = `${f.name}-${n}`;
    used.add(name);
    return name === f.name ? f : { ...f, name };
  });
}

export interface FinalizeInput {
  document: Omit<ProposalDocument, 'families' | 'footer'>;
  families: FamilyProposal[];
  /** Footer lines before the left-out families are added. */
  footer: (leftOut: readonly LeftOut[]) => string[];
  leftOut: LeftOut[];
  /** Validation messages name this file. */
  file: string;
  /** Source name → the variable its URL is read from in the file, when it has a password. */
  variables: ReadonlyMap<string, string>;
  /** Ids to load per family pattern, for the final check. */
  ids: ReadonlyMap<string, readonly string[]>;
  sources: SourceRows;
}

function render(input: FinalizeInput, families: FamilyProposal[], leftOut: readonly LeftOut[]): string {
  return renderProposal({ ...input.document, families, footer: input.footer(leftOut) });
}

/** Validates in an empty environment: the file must work unedited, its `${VAR:-default}`s unset. */
function validate(text: string, file: string): RulesError | undefined {
  try {
    parseRules(text, file, {});
    return undefined;
  } catch (error) {
    if (error instanceof RulesError) return error;
    throw error;
  }
}

/** Leaves out the families the rules loader rejects (twice at most), so the text validates. */
function validated(input: FinalizeInput, start: FamilyProposal[], leftOut: LeftOut[]): { text: string; families: FamilyProposal[] } {
  let families = start;
  let text = render(input, families, leftOut);
  let problem = validate(text, input.file);
  for (let round = 0; problem !== undefined && round < 2; round++) {
    const bad = new Set(problem.problems.map((p) => p.family).filter((name): name is string => name !== undefined));
    if (bad.size === 0) break;
    for (const f of families.filter((x) => bad.has(x.name))) {
      const messages = problem.problems.filter((p) => p.family === f.name).map((p) => p.message);
      leftOut.push({ pattern: f.pattern, keys: f.keyCount, reason: `the proposal did not validate: ${messages.join('; ')}` });
    }
    families = families.filter((f) => !bad.has(f.name));
    if (families.length === 0) throw nothingToPropose(leftOut);
    text = render(input, families, leftOut);
    problem = validate(text, input.file);
  }
  if (problem !== undefined) {
    throw new ShadowcheckError(`init proposed a rules file that does not validate, so it was not written: ${problem.message}`, ExitCode.bug);
  }
  return { text, families };
}

/** No family at all: there is no rules file to write (the schema needs one family). */
export function nothingToPropose(leftOut: readonly LeftOut[]): UsageError {
  const reasons = leftOut.slice(0, 5).map((l) => `${l.pattern} (${l.keys} keys): ${l.reason}`);
  return new UsageError(`init found no key family it could match to a table, so there is no rules file to propose${reasons.length > 0 ? `:\n  ${reasons.join('\n  ')}` : ''}`, {
    hint: 'check that --redis points at the cache and that each --source is the database its values are copied from',
  });
}

export async function finalizeProposal(input: FinalizeInput): Promise<{ text: string; families: FamilyProposal[]; leftOut: LeftOut[] }> {
  const { kept, dropped } = withoutOverlaps(input.families);
  const leftOut = [...input.leftOut, ...dropped];
  if (kept.length === 0) throw nothingToPropose(leftOut);
  let { text, families } = validated(input, uniqueNames(kept), leftOut);

  // A family whose query the loader rejects would fail the audit's start: leave it out, say why.
  const checked = parseRules(text, input.file, input.sources.envFor(input.variables));
  const failed = new Map<string, string>();
  for (const f of families) {
    const result = await input.sources.load(checked, f.name, input.ids.get(f.pattern) ?? []);
    if (result.error !== undefined) failed.set(f.name, result.error);
  }
  if (failed.size > 0) {
    for (const f of families) {
      const reason = failed.get(f.name);
      if (reason !== undefined) leftOut.push({ pattern: f.pattern, keys: f.keyCount, reason: `its proposed rows could not be loaded: ${reason}` });
    }
    const rest = families.filter((f) => !failed.has(f.name));
    if (rest.length === 0) throw nothingToPropose(leftOut);
    ({ text, families } = validated(input, rest, leftOut));
  }
  return { text, families, leftOut };
}
