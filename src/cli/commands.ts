import type { Command } from 'commander';

export type Register = (program: Command) => void;

/**
 * A command as top-level help lists it, and how to load it. Help, a bare `shadowcheck` and a
 * mistyped command list every command; the outline lets them do so without importing any command
 * module, whose imports (ioredis, pg, mysql2, the report writers) cost more than the rest of the
 * start. Each command module takes its description from here, so the two cannot differ; the
 * lazy-loading test checks that help is the same text as with every command registered.
 */
export interface CommandOutline {
  /** As commander lists the command: its name, `[options]` when it has any, then its arguments. */
  term: string;
  description: string;
  load: () => Promise<Register>;
}

/** The commands, in help order. */
export const COMMANDS: Readonly<Record<string, CommandOutline>> = {
  audit: {
    term: 'audit [options]',
    description: 'sample keys from Redis, re-read their source rows, and judge each key against its freshness contract',
    load: async () => (await import('./audit.js')).registerAuditCommand,
  },
  explain: {
    term: 'explain [options] <key...>',
    description: 'read one or more keys and their rows, and show every decision step (read-only)',
    load: async () => (await import('./explain.js')).registerExplainCommand,
  },
  rules: {
    term: 'rules',
    description: 'work with rules files',
    load: async () => (await import('./rules.js')).registerRulesCommand,
  },
  demo: {
    term: 'demo',
    description: 'seed a cache-aside dataset with planted bugs in the local services, then audit it',
    load: async () => (await import('./demo.js')).registerDemoCommand,
  },
  merge: {
    term: 'merge [options] <report...>',
    description: 'merge the JSON reports of a sharded audit (--shard i/N) into one report, and gate it',
    load: async () => (await import('./merge.js')).registerMergeCommand,
  },
  init: {
    term: 'init [options]',
    description: 'propose a rules file from the key names and values in Redis and the schemas of the sources (read-only)',
    load: async () => (await import('./init.js')).registerInitCommand,
  },
};

/** The description of a command, for its module's `.description(...)`. */
export function describeCommand(name: string): string {
  const outline = COMMANDS[name];
  if (outline === undefined) throw new Error(`no command "${name}" in the command outlines`);
  return outline.description;
}
