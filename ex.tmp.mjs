import v8 from 'node:v8'; if (process.env.LO) v8.setFlagsFromString('--liftoff-only');
const t0 = performance.now();
process.on('beforeExit', () => console.error('beforeExit', (performance.now() - t0).toFixed(0)));
process.on('exit', () => console.error('exit', (performance.now() - t0).toFixed(0)));
const { main } = await import('./dist/cli/main.js');
await main(['node', 'x', 'rules', 'validate', 'rules/example.yaml']);
console.error(process.getActiveResourcesInfo(), 'main done', (performance.now() - t0).toFixed(0));
