/** Deliberate refusals of the site rules (a payment without enough bonus, a case already closed, ...). */

export class RulesError extends Error {
  override name = 'RulesError';
  constructor(
    readonly code: 'BAD_USER_INPUT' | 'NOT_FOUND' | 'FORBIDDEN',
    message: string,
  ) {
    super(message);
  }
}
