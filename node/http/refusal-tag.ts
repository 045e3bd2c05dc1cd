/** The refusal-counter tag (wsha_refused_total reason) of a request refused by the access checks. */
import type { WshaError } from '../../shared/errors';

const TAGS: Readonly<Record<string, string>> = Object.freeze({
  WSHA_ERR_BAD_PATH: 'bad-path',
  WSHA_ERR_BAD_FRAMING: 'bad-framing',
  WSHA_ERR_BAD_REQUEST: 'bad-request',
  WSHA_ERR_LIMIT: 'too-many-headers',
});

/** `bad-path`, `bad-framing` or `bad-request` (anything else: `bad-request`). */
export function refusalTag(err: WshaError): string {
  return TAGS[err.code] ?? 'bad-request';
}
