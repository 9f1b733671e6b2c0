import type { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { performAudit } from '../audit/session.js';
import { loadRulesFile } from '../config/load.js';
import { plantedVerdictCheck } from '../demo/check.js';
import { buildDemoPlan, closingTip } from '../demo/plan.js';
import { demoTargets, seedDemo } from '../demo/seed.js';
import { ExitCode } from '../errors.js';
import { redactUrl } from '../util/redact-url.js';
import { useColor } from './parse.js';
import { beginOnStart, withInterrupt } from './interrupt.js';
import { describeCommand } from './commands.js';

const DEMO_RULES = fileURLToPath(new URL('../../rules/demo.yaml', import.meta.url));

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(describeCommand('demo'))
    .action(async () => {
      const targets = demoTargets();
      const plan = buildDemoPlan();
      await seedDemo(plan, targets);
      process.stderr.write(`Seeded ${plan.entries.length} cache entries and their rows (PostgreSQL, MariaDB, Redis db ${dbOf(targets.redisUrl)}).\n`);
      process.stderr.write('Planted:\n');
      for (const line of [...plan.story, closingTip(targets.redisUrl)]) process.stderr.write(`  ${line}\n`);
      process.stderr.write(`\nAuditing with: shadowcheck audit --rules rules/demo.yaml --redis ${redactUrl(targets.redisUrl)} --all\n\n`);

      const config = await loadRulesFile(DEMO_RULES);
      const check = plantedVerdictCheck(plan);
      const code = await withInterrupt((signal, phase) =>
        performAudit({
          config,
          redisUrl: targets.redisUrl,
          familyNames: [],
          audit: { sample: 'all', seed: 1, batch: 500, scanCount: 500, concurrency: 4, confirmDelayMs: 250, maxValueBytes: 1024 * 1024 },
          timeoutMs: 5000,
          format: 'table',
          gate: { failOn: 'divergent', maxDivergent: 0, maxErrorRatio: 0.05 },
          color: useColor(process.stdout),
          signal,
          // No bar (the demo's output is its story), but the start marks when a signal yields a report.
          progress: beginOnStart({ start() {}, tick() {}, stop() {} }, phase),
          sinks: [check],
        }),
      );
      if (code !== ExitCode.gateFailed && code !== ExitCode.ok) {
        process.exitCode = code;
        return;
      }
      const { surprises } = check;
      if (surprises.length > 0) {
        process.stderr.write(`\nThe demo found ${surprises.length} verdict(s) other than planted:\n${surprises.map((s) => `  ${s}\n`).join('')}`);
        process.exitCode = ExitCode.gateFailed;
        return;
      }
      process.stderr.write(
        '\nEvery planted bug was found, and nothing else. In a real audit the gate above fails (exit 1) on divergent keys;\n' +
          'the demo exits 0 because every verdict was the one it planted.\n',
      );
    });
}

function dbOf(url: string): string {
  return new URL(url).pathname.replace('/', '') || '0';
}
