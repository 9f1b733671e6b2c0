// Runs the shadowcheck CLI in this process and reports its peak RSS on stderr as the last line,
// so the benchmark measures the audit's own memory, not the parent's. It also samples
// process.memoryUsage() every 50 ms and reports the sample with the highest RSS, which tells
// V8's heap (used/total), Buffers outside it (arrayBuffers) and the rest (code, stacks, malloc)
// apart: the peak is attributed, not just measured.
import { main } from '../dist/cli/main.js';

let atPeak = process.memoryUsage();
const sampler = setInterval(() => {
  const now = process.memoryUsage();
  if (now.rss > atPeak.rss) atPeak = now;
}, 50);
sampler.unref();

await main(process.argv);
clearInterval(sampler);
process.stderr.write(`\n${JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024, atPeak })}\n`);
