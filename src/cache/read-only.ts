/**
 * The commands shadowcheck may send to Redis. Everything else is refused before it reaches the
 * wire: a write from an auditor is a bug, and the guard makes it a loud one rather than a change
 * to someone's production cache. The connection-setup commands ioredis itself sends are included.
 */
export const READ_COMMANDS: ReadonlySet<string> = new Set([
  // data reads
  'scan', 'get', 'getrange', 'strlen', 'hlen', 'hgetall', 'hkeys', 'hstrlen', 'pttl', 'type', 'dbsize', 'exists', 'randomkey',
  // lists, sets, sorted sets (collection-reads.ts)
  'llen', 'lrange', 'scard', 'smembers', 'zcard', 'zrange',
  // a hash's size without copying it; only its USAGE subcommand (MEMORY PURGE changes the server)
  'memory',
  // read-only scripting (the server itself refuses writes inside EVAL_RO)
  'eval_ro', 'evalsha_ro',
  // connection setup and topology discovery
  'auth', 'hello', 'select', 'ping', 'info', 'client', 'readonly', 'cluster', 'sentinel', 'role', 'quit', 'command',
]);

/** A command outside the allowlist was about to be sent. */
export class WriteCommandRefused extends Error {
  constructor(command: string) {
    super(`shadowcheck refused to send ${command.toUpperCase()} to Redis: it only sends read commands (this is a bug, please report it)`);
    this.name = 'WriteCommandRefused';
  }
}

/** Commands allowed only with these subcommands. */
const SUBCOMMANDS: ReadonlyMap<string, ReadonlySet<string>> = new Map([['memory', new Set(['usage'])]]);

function allowed(command: CommandLike): boolean {
  const name = command.name.toLowerCase();
  if (!READ_COMMANDS.has(name)) return false;
  const subcommands = SUBCOMMANDS.get(name);
  return subcommands === undefined || subcommands.has(String(command.args?.[0] ?? '').toLowerCase());
}

interface CommandLike {
  name: string;
  args?: unknown[];
  reject(error: Error): void;
  promise: Promise<unknown>;
}

interface CommandSender {
  sendCommand(command: CommandLike, ...rest: unknown[]): unknown;
}

/**
 * Guards an ioredis client (standalone, a Cluster, or a cluster node): every command, pipelined or
 * not, passes through sendCommand, where anything not in READ_COMMANDS is rejected unsent.
 */
export function enforceReadOnly<T>(client: T): T {
  const sender = client as unknown as CommandSender;
  const send = sender.sendCommand.bind(sender);
  sender.sendCommand = (command: CommandLike, ...rest: unknown[]) => {
    if (!allowed(command)) {
      command.reject(new WriteCommandRefused(command.name));
      // Inside a pipeline ioredis hands a collecting stream that flushes once every queued command
      // has written: write nothing for the refused one so the others still go out. It never enters
      // the connection's reply queue, so the replies stay aligned with what was sent.
      const collector = rest[0] as { write?: (chunk: string) => unknown } | undefined;
      if (typeof collector?.write === 'function') collector.write('');
      return command.promise;
    }
    return send(command, ...rest);
  };
  return client;
}
