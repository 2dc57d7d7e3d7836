// A logger that also keeps the recent records and tells listeners (the WebSocket "logs" channel).
import type { LogLevel, Logger } from "../util/log.ts";

export interface LogRecord {
  time: string;
  level: LogLevel;
  message: string;
  fields?: Record<string, unknown>;
}

export class LogHub implements Logger {
  readonly recent: LogRecord[] = [];
  private readonly listeners = new Set<(r: LogRecord) => void>();

  constructor(
    private readonly next: Logger,
    private readonly keep = 200,
  ) {}

  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    this.next.log(level, message, fields);
    const record = { time: new Date().toISOString(), level, message, fields };
    this.recent.push(record);
    if (this.recent.length > this.keep) this.recent.shift();
    for (const l of this.listeners) {
      try {
        l(record);
      } catch {
        // a listener never breaks logging
      }
    }
  }

  onRecord(listener: (r: LogRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
