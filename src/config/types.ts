import type { FamilyRule } from '../core/rule.js';
import type { RulesLocation } from '../errors.js';
import type { DataPath } from './yaml-document.js';

import type { SourceKind } from '../sources/registry.js';

/** A rules file's `kind:`: the names of the source registry (src/sources/registry.ts). */
export type { SourceKind };

export interface SourceSpec {
  name: string;
  kind: SourceKind;
  /** Connection URL after `${ENV}` interpolation (postgres, mysql). */
  url?: string;
  /** Module path resolved against the rules file's folder (module). */
  module?: string;
  /** `timezone:`: zone-less timestamps from this source and its cached values are wall-clock times there (default UTC). */
  timezone?: string;
}

export interface RulesConfig {
  /** Path of the rules file as given, for messages. */
  file: string;
  sources: Readonly<Record<string, SourceSpec>>;
  families: readonly FamilyRule[];
  /**
   * Where a family's property sits in the rules file (`['fields', 1]`, `['normalize', 'email']`
   * with `on: 'key'`), for problems found after loading (names checked against the live sources).
   * Absent on a config built in code: problems then name the file and family only.
   */
  locate?(family: string, path: DataPath, on?: 'key' | 'value'): RulesLocation;
}
