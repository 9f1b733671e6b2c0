/**
 * The JSON report document (ARCHITECTURE.md "Report contract"), written and read in one place:
 * build.ts turns a concluded run and its findings into the document (report/json.ts streams it
 * out; report/ndjson.ts's summary line shares its field builders), finding.ts is one finding's
 * shape, and read.ts checks a document read back (merge, --baseline). Pure.
 */
export { outcomeFields, populationFields, reportDocument, warningsFields, type ReportDocument } from './build.js';
export { findingToJson, toJsonValue, type FieldDiffJson, type FindingJson, type JsonValue, type ReportFinding } from './finding.js';
export { baselineFindingsOf, readShardReport, type Population, type ShardReport } from './read.js';
