/** A patch that cannot be applied; the API server answers 422 (or 400 for malformed patches) with this message. */
export class PatchError extends Error {
  constructor(
    message: string,
    readonly code: 400 | 409 | 413 | 415 | 422 = 422,
  ) {
    super(message);
    this.name = 'PatchError';
  }
}
