// An error that carries its HTTP status, thrown by handlers and turned into `{error}` JSON once.
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly field?: string, readonly retryAfter?: number) {
    super(message);
  }
}
