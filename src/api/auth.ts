// Bearer-token check for mutating routes, in constant time: both sides are hashed to 32 bytes first, so
// neither the token's length nor its content leaks through timing.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

const digest = (s: string) => createHash("sha256").update(s).digest();

export class TokenCheck {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  /** Whether an Authorization header carries the token ("Bearer <token>"). */
  allows(header: string | undefined): boolean {
    const m = /^Bearer (.+)$/.exec(header ?? "");
    const got = digest(m ? m[1] : "");
    return timingSafeEqual(got, this.expected) && m !== null;
  }
}

/** A token for a session that configured none (printed at start, so only whoever started the node knows it). */
export function randomToken(): string {
  return randomBytes(24).toString("base64url");
}
