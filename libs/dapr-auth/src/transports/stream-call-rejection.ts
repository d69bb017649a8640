import { Catch, type ExceptionFilter } from '@nestjs/common';
import { of, type Observable } from 'rxjs';

/**
 * Thrown by the `@GrpcStreamCall` adapter AFTER it has sent UNAUTHENTICATED on the call itself.
 * It only has to stop Nest before the handler; {@link StreamCallRejectionFilter} then ends Nest's
 * processing of the call as completed.
 */
export class StreamCallRejection extends Error {
  constructor() {
    super('Unauthorized');
    this.name = 'StreamCallRejection';
  }
}

/**
 * Why a filter: Nest's own error path for `@GrpcStreamCall` never reaches the client (it waits for
 * its deadline) and ends in an unhandled promise rejection, which crashes the process. This filter
 * answers the (already answered) call with a completed result instead, so Nest finishes the call
 * normally: its processing start / end hooks stay balanced and nothing is left pending.
 * It catches nothing but {@link StreamCallRejection}, so putting it on a handler changes nothing else.
 */
@Catch(StreamCallRejection)
export class StreamCallRejectionFilter implements ExceptionFilter {
  catch(): Observable<null> {
    return of(null);
  }
}

/** The one instance start-up puts on `@GrpcStreamCall` handlers (stateless, so one for every app). */
export const STREAM_CALL_REJECTION_FILTER = new StreamCallRejectionFilter();
