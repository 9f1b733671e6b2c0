// Runs `shadowcheck audit --all --format json` as the CLI runs (the node flags of
// bin/shadowcheck.js's shebang line), under measure.js, which reports the process's peak RSS.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The node flags the CLI runs with: those on bin/shadowcheck.js's shebang line. */
export function cliNodeFlags() {
  const shebang = readFileSync(fileURLToPath(new URL('../bin/shadowcheck.js', import.meta.url)), 'utf8').split('\n')[0];
  return shebang.split(/\s+/).filter((part) => part.startsWith('--'));
}

/** The audit's wall time, its JSON report, its peak RSS in bytes and process.memoryUsage() at that peak. Exit 0 or 1 (the gate) only. */
export async function auditAll({ rulesFile, redisUrl, batch, concurrency }) {
  const measure = fileURLToPath(new URL('./measure.js', import.meta.url));
  const argv = ['audit', '--rules', rulesFile, '--redis', redisUrl, '--all', '--format', 'json', '--batch', String(batch), '--concurrency', String(concurrency)];
  const started = performance.now();
  const child = spawn(process.execPath, [...cliNodeFlags(), measure, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const stdout = [];
  let stderr = '';
  child.stdout.on('data', (c) => stdout.push(c));
  child.stderr.on('data', (c) => (stderr += c));
  const code = await new Promise((resolve) => child.on('close', resolve));
  const ms = performance.now() - started;
  if (code !== 0 && code !== 1) throw new Error(`audit exited ${code}:\n${stderr}`);
  const last = JSON.parse(stderr.trim().split('\n').at(-1) ?? '{}');
  return { ms, report: JSON.parse(Buffer.concat(stdout).toString('utf8')), maxRssBytes: last.maxRssBytes, atPeak: last.atPeak };
}

/** Peak RSS of node holding the audit's modules and nothing read: the baseline of the audit's figure. */
export async function modulesOnly() {
  const script = fileURLToPath(new URL('./modules-only.js', import.meta.url));
  const child = spawn(process.execPath, [...cliNodeFlags(), script], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const code = await new Promise((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`modules-only exited ${code}:\n${stderr}`);
  return JSON.parse(stderr.trim().split('\n').at(-1)).maxRssBytes;
}
