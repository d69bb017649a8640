import { type ExecutionContext, Logger } from '@nestjs/common';
import type { DaprAuthModuleOptions, PresentedToken } from '../dapr-auth.options.js';
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
    private readonly extract: DaprAuthModuleOptions['extractToken'],
    private readonly logger: Logger,
  ) {}

  supports(): boolean {
    return true;
  }

  isTokenlessDaprCall(): boolean {
    return false;
  }

  extractToken(context: ExecutionContext): PresentedToken {
    if (this.extract) return this.extract(context);
    const type = context.getType();
    if (!this.explained.has(type)) {
      this.explained.add(type);
      this.logger.error(
        `DaprAuthGuard cannot read a Dapr token in '${type}' execution contexts, so it rejects all of ` +
          `them. Pass \`extractToken: (context) => ...\` to DaprAuthModule to support this transport.`,
      );
    }
    return undefined;
  }

  describeTarget(context: ExecutionContext): string {
    return `(${context.getType()}) ${context.getClass().name}.${context.getHandler().name}`;
  }

  reject(): false {
    return false;
  }
}
