/** Deliberate failures of the community services (bonus, thanks, fun box, news, invites). */

export class CommunityError extends Error {
  override name = 'CommunityError';
  constructor(
    readonly code: 'BAD_USER_INPUT' | 'NOT_FOUND' | 'FORBIDDEN',
    message: string,
  ) {
    super(message);
  }
}
