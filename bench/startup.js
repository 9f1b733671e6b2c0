// npm run bench:startup [-- --runs 15]
//
// Start-up time of the CLI against the baseline `node -e 0`, measured in the same run: each command
// is spawned --runs times, interleaved (so a burst of load elsewhere on the machine hits all of them
// alike), and the medians of wall time and of CPU time (user + system, from /usr/bin/time when the
// machine has it) are printed with their ratio to the baseline's. Commands: `--version`, `--help`,
// `rules validate rules/example.yaml` (two `query` families: the PostgreSQL and MySQL parsers
// load), and `rules validate` of a file of `table` families (no parser loads).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const RUNS = Number(args.runs);
const BIN = new URL('../bin/shadowcheck.js', import.meta.url).pathname;
const EXAMPLE = new URL('../rules/example.yaml', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'sc-startup-'));
const TABLES = join(dir, 'tables.yaml');
writeFileSync(
  TABLES,
  `version: 1
sources:
  main: { kind: postgres, url: "postgres://127.0.0.1/app" }
families:
  - { name: user, pattern: "user:{id}", source: main, table: users, ttl: 300s }
  - { name: order, pattern: "order:{id}", source: main, table: orders, ttl: 300s }
`,
);

const commands = {
  'node -e 0 (baseline)': ['-e', '0'],
  'shadowcheck --version': [BIN, '--version'],
  'shadowcheck --help': [BIN, '--help'],
  'rules validate rules/example.yaml': [BIN, 'rules', 'validate', EXAMPLE],
  'rules validate (table families)': [BIN, 'rules', 'validate', TABLES],
};
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const wall = new Map(Object.keys(commands).map((k) => [k, []]));
const cpu = new Map(Object.keys(commands).map((k) => [k, []]));
try {
  for (let i = 0; i < RUNS; i++) {
    for (const [name, argv] of Object.entries(commands)) {
      const started = process.hrtime.bigint();
      const run = TIME === undefined ? spawnSync(process.execPath, argv, { stdio: 'pipe' }) : spawnSync(TIME, ['-f', '%U %S', process.execPath, ...argv], { stdio: 'pipe' });
      wall.get(name).push(Number(process.hrtime.bigint() - started) / 1e6);
      if (run.status !== 0) throw new Error(`${name} exited ${run.status}: ${String(run.stderr).slice(0, 500)}`);
      if (TIME !== undefined) {
        const [user, system] = String(run.stderr).trim().split('\n').pop().split(' ').map(Number);
        cpu.get(name).push((user + system) * 1000);
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const baseWall = median(wall.get('node -e 0 (baseline)'));
const baseCpu = TIME === undefined ? undefined : median(cpu.get('node -e 0 (baseline)'));
console.log(`${RUNS} runs each, interleaved; medians, and the ratio to node -e 0 in this run`);
console.log(`${'command'.padEnd(36)}${'wall'.padEnd(20)}cpu (user + system)`);
for (const name of Object.keys(commands)) {
  const w = median(wall.get(name));
  const c = baseCpu === undefined ? 'n/a (no /usr/bin/time)' : `${median(cpu.get(name)).toFixed(0)} ms  ${(median(cpu.get(name)) / baseCpu).toFixed(2)}x`;
  console.log(`${name.padEnd(36)}${`${w.toFixed(0)} ms  ${(w / baseWall).toFixed(2)}x`.padEnd(20)}${c}`);
}
