export function findEmulator(): string | undefined;
export function freePort(): Promise<number>;
export function startEmulator(opts?: { port?: number; timeoutMs?: number; quiet?: boolean }): Promise<{ host: string; port: number; pid: number; stop(): Promise<void> }>;
