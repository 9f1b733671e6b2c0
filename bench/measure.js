// Runs the shadowcheck CLI in this process and reports its peak RSS on stderr as the last line,
// so the benchmark measures the audit's own memory, not the parent's.
import { main } from '../dist/cli/main.js';

await main(process.argv);
process.stderr.write(`\n${JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
