/**
 * The error catalogue: every stable code Verity answers with, its HTTP status, a title and
 * the default sentence a member can act on. The API renders an entry as an RFC 9457 problem
 * document; pages render the same entry beside the field it concerns.
 */
export const catalogue = {
  invalid_request: [400, 'Invalid request', 'Some fields are missing or not valid.'],
  unauthenticated: [401, 'Not signed in', 'Sign in to continue.'],
  invalid_credentials: [401, 'Wrong sign-in details', 'The username, e-mail or password is not right.'],
  forbidden: [403, 'Forbidden', 'You do not have permission to do this.'],
  step_up_required: [403, 'Please confirm it is you', 'This action needs a fresh check of your identity.'],
  csrf_invalid: [403, 'Form expired', 'This form has expired. Reload the page and try again.'],
  signature_invalid: [403, 'Signature invalid', 'The request signature does not match.'],
  two_step_required: [403, 'Two-step verification required', 'Pass a two-step verification method first.'],
  not_found: [404, 'Not found', 'There is nothing here.'],
  no_pending_verification: [404, 'No verification in progress', 'Start verifying a phone number first.'],
  email_taken: [409, 'E-mail already registered', 'An account already uses this e-mail. Sign in, or reset your password if you forgot it.'],
  username_taken: [409, 'Username taken', 'This username is taken. Please choose another.'],
  phone_in_use: [409, 'Phone number in use', 'This phone number is already linked to another account.'],
  phone_already_verified: [409, 'Phone already verified', 'This number is already verified on your account.'],
  ticket_closed: [409, 'Ticket closed', 'This ticket is closed and takes no more replies. Open a new request at /support/contact.'],
  status_change_refused: [409, 'Status change refused', 'This case cannot move to that status from the one it has now.'],
  wrong_case_kind: [409, 'Another kind of case', 'This action does not apply to this kind of case.'],
  phone_not_in_use: [409, 'Number not in use', 'No other account holds this number: verify it on your account instead.'],
  claim_open: [409, 'Request already filed', 'You have already shown that this number is yours; our support team is looking at your request.'],
  holder_active: [409, 'Number still in use', 'The account holding this number has signed in recently, so the number cannot be released.'],
  already_decided: [409, 'Already decided', 'This request has already been decided.'],
  reset_no_account: [409, 'No account to reset', 'No account has the login in this request: deny it, or ask the requester for more information.'],
  reset_not_waiting: [409, 'Nothing to add now', 'This request is not waiting for more information from you.'],
  last_two_step_method: [409, 'Last two-step method', 'Add another two-step verification method before removing this one.'],
  no_usable_method: [409, 'No way to confirm it is you', 'None of your two-step verification methods can be used now. Ask us to reset your security information, or contact support: a person checks who you are and helps you back in.'],
  last_admin: [409, 'Last administrator', 'Make another account an administrator first: the last administrator cannot give up the role or close their account.'],
  phone_verification_required: [409, 'Phone not verified', 'Verify your phone number first.'],
  answer_reset_needs_other_step: [409, 'Use another method', 'Your reset link came to this same inbox, so the inbox cannot also stand in for your second step: anyone who got into your e-mail could take the account. Try another method, or ask us to reset your security information.'],
  no_security_question: [409, 'No security question', 'This check has no security question to reset. Try another method.'],
  email_verification_required: [409, 'E-mail not confirmed', 'Confirm your e-mail address first.'],
  token_invalid: [410, 'Link expired or invalid', 'This link is invalid, already used or expired. Ask for a new one.'],
  code_expired: [410, 'Code expired', 'This code has expired. Ask for a new one.'],
  challenge_expired: [410, 'Challenge expired', 'This verification has expired. Start again.'],
  payload_too_large: [413, 'Request too large', 'The request body is larger than 1 MiB.'],
  uri_too_long: [414, 'Address too long', 'A part of this address is too long.'],
  unsupported_media_type: [415, 'Unsupported media type', 'Send the request body as application/json.'],
  password_too_weak: [422, 'Password too weak', 'Choose a stronger password.'],
  code_invalid: [422, 'Wrong code', 'That code is not right. Check it and try again.'],
  answer_invalid: [422, 'Wrong answer', 'That answer is not right.'],
  answer_too_short: [422, 'Answer too short', 'Choose a longer answer.'],
  passkey_invalid: [422, 'Passkey not accepted', 'That passkey could not be checked. Try again.'],
  phone_invalid: [422, 'Phone number not valid', 'This is not a valid phone number.'],
  phone_voip: [422, 'VoIP number', "We can't verify VoIP numbers; please use a different, non-VoIP number."],
  phone_type_unsupported: [422, 'Phone type not supported', 'This kind of number cannot receive verification codes; please use a mobile number.'],
  phone_country_unsupported: [422, 'Country not supported', 'We cannot send verification codes to numbers in this country yet; please use a number from another country.'],
  invalid_feed: [422, 'Invalid notice feed', 'The notice feed has errors; the previous feed is still in place.'],
  account_locked: [423, 'Account locked', 'Too many failed sign-ins. Try again later or reset your password.'],
  rate_limited: [429, 'Too many requests', 'Too many requests. Please wait and try again.'],
  too_many_attempts: [429, 'Too many attempts', 'Too many wrong tries. Ask for a new code.'],
  resend_too_soon: [429, 'Please wait', 'Please wait before asking for another code.'],
  internal_error: [500, 'Internal error', 'Something went wrong on our side. Please try again.'],
  service_unavailable: [503, 'Service unavailable', 'The service is temporarily unavailable. Please try again shortly.'],
} as const satisfies Record<string, readonly [number, string, string]>;

export type ErrorCode = keyof typeof catalogue;

export interface FieldError {
  /** JSON pointer to the field, e.g. "/username". */
  path: string;
  message: string;
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  [extra: string]: unknown;
}

/** A refusal with a stable code. Anything else thrown becomes a 500 with no details. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly extra: Record<string, unknown>;
  /** Seconds until a retry may succeed; becomes the Retry-After header. */
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, options: { detail?: string; extra?: Record<string, unknown>; retryAfter?: number } = {}) {
    const [status, title, detail] = catalogue[code];
    super(options.detail ?? detail);
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.title = title;
    this.detail = options.detail ?? detail;
    this.extra = options.extra ?? {};
    this.retryAfter = options.retryAfter;
  }

  /** Field errors of an invalid request, so pages can show each beside its field. */
  get fieldErrors(): FieldError[] {
    const errors = this.extra.errors;
    return Array.isArray(errors) ? (errors as FieldError[]) : [];
  }

  toProblem(): ProblemDocument {
    const problem: ProblemDocument = {
      type: `/problems/${this.code}`,
      title: this.title,
      status: this.status,
      detail: this.detail,
      code: this.code,
      ...this.extra,
    };
    if (this.retryAfter !== undefined) problem.retryAfter = this.retryAfter;
    return problem;
  }
}

export function invalid(errors: FieldError[], detail?: string): AppError {
  const first = errors[0];
  return new AppError('invalid_request', {
    detail: detail ?? (errors.length === 1 && first ? first.message : 'Some fields are missing or not valid.'),
    extra: { errors },
  });
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
