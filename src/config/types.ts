import type { FamilyRule } from '../core/rule.js';

export type SourceKind = 'postgres' | 'mysql' | 'module';

export interface SourceSpec {
  name: string;
  kind: SourceKind;
  /** Connection URL after `${ENV}` interpolation (postgres, mysql). */
  url?: string;
  /** Module path resolved against the rules file's folder (module). */
  module?: string;
}

export interface RulesConfig {
  /** Path of the rules file as given, for messages. */
  file: string;
  sources: Readonly<Record<string, SourceSpec>>;
  families: readonly FamilyRule[];
}
