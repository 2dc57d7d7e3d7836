// A minimal leveled logger; components take one so tests and the API can capture what they say.
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

export const consoleLogger: Logger = {
  log(level, message, fields) {
    const line = `[${new Date().toISOString()}] ${level.toUpperCase()} ${message}${fields ? " " + JSON.stringify(fields) : ""}`;
    (level === "error" || level === "warn" ? console.error : console.log)(line);
  },
};

export const silentLogger: Logger = { log() {} };

/** Collects records; for tests. */
export class MemoryLogger implements Logger {
  records: { level: LogLevel; message: string; fields?: Record<string, unknown> }[] = [];
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    this.records.push({ level, message, fields });
  }
}
