#!/usr/bin/env -S node --max-old-space-size=512
// A bounded old generation (ample for 100,000 findings) also makes V8 collect sooner. The young
// generation keeps V8's default: a smaller one takes 10-20 MB off the peak RSS but costs 10-20% of
// the throughput in scavenges (README "Performance"); a 1M-key audit peaks near 140 MB as it is.
import { main } from '../dist/cli/main.js';

await main(process.argv);
