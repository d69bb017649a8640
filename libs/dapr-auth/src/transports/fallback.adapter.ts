import { type ExecutionContext, Logger } from '@nestjs/common';
import type { PresentedCaller, PresentedToken, TokenExtractor } from '../pipeline.types.js';
import type { TransportAdapter } from './transport-adapter.js';

/**
 * Every other execution context (WebSocket, TCP and other microservice transports, GraphQL...).
 * It reads the token with the user's `extractToken` option; without one it fails closed and
 * says why, once per context type. Rejection: `false`, which Nest shapes for that transport.
 */
export class FallbackTransportAdapter implements TransportAdapter {
  readonly transport = 'other';
  private readonly explained = new Set<string>();

  constructor(
    private readonly extract: TokenExtractor | undefined,
    private readonly logger: Logger,
  ) {}

  supports(): boolean {
    return true;
  }

  isTokenlessDaprCall(): boolean {
    return false;
  }

  extractToken(context: ExecutionContext): PresentedToken {
    const type = context.getType();
    if (!this.extract) {
      this.explainOnce(
        type,
        `DaprAuthGuard cannot read a Dapr token in '${type}' execution contexts, so it rejects all of ` +
          `them. Pass \`extractToken: (context) => ...\` to DaprAuthModule to support this transport.`,
      );
      return undefined;
    }
    try {
      return this.extract(context);
    } catch (error) {
      // Bad input must end in a rejection, not an internal error. Only the error's class is
      // logged: its message could quote what the caller sent.
      this.explainOnce(
        `${type}:threw`,
        `The extractToken option threw ${(error as Error)?.name ?? 'an error'} in a '${type}' context; such ` +
          `requests are rejected as if they had no token. Make extractToken return undefined instead.`,
      );
      return undefined;
    }
  }

  private explainOnce(key: string, message: string): void {
    if (this.explained.has(key)) return;
    this.explained.add(key);
    this.logger.error(message);
  }

  describeTarget(context: ExecutionContext): string {
    return `(${context.getType()}) ${context.getClass().name}.${context.getHandler().name}`;
  }

  /** Other transports carry no caller identity this library can read: a `@DaprCallers` handler refuses them. */
  readCaller(): PresentedCaller {
    return { appId: undefined, namespace: undefined, namespaceTrusted: false };
  }

  reject(): false {
    return false;
  }
}
