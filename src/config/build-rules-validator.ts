import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GENERATED_VALIDATOR_URL, generateRulesValidatorSource } from './rules-ajv.js';
import { RULES_SCHEMA_URL } from './schema-validation.js';

/** Build step (`npm run build`, after tsc): writes the rules schema's standalone validator (rules-ajv.ts). */
writeFileSync(fileURLToPath(GENERATED_VALIDATOR_URL), generateRulesValidatorSource(readFileSync(RULES_SCHEMA_URL, 'utf8')));
