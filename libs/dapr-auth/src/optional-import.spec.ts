import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { nestLoggerOnFirstLine } from './optional-import.js';

describe('nestLoggerOnFirstLine', () => {
  it("writes through Nest's Logger, loaded at the first line, in order", async () => {
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const logger = nestLoggerOnFirstLine('DaprAuthModule');
      logger.log('first');
      logger.error('second');
      logger.log('third');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(log.mock.calls.map(([message]) => message)).toEqual(['first', 'third']);
      expect(error.mock.calls.map(([message]) => message)).toEqual(['second']);
      expect(log.mock.invocationCallOrder[0]).toBeLessThan(error.mock.invocationCallOrder[0]);
      expect(error.mock.invocationCallOrder[0]).toBeLessThan(log.mock.invocationCallOrder[1]);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  });
});
