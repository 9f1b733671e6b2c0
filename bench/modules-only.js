// The baseline of the audit's peak RSS: node with the modules an audit loads (the CLI, the audit,
// the Redis and source clients) and nothing read. Prints its peak RSS like measure.js does.
import { main } from '../dist/cli/main.js';
import '../dist/audit/session.js';
import '../dist/cache/index.js';
import '../dist/sources/index.js';
import 'ioredis';
import 'pg';
import 'mysql2/promise';

void main;
process.stderr.write(`\n${JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024, atPeak: process.memoryUsage() })}\n`);
