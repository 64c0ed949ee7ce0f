"""The Qovery API layer: everything that speaks HTTP to Qovery, and nothing that decides a verdict.

- `protocol.py`   QoveryApi: what the engine needs of the API (the engine depends on it, not on the client)
- `client.py`     QoveryClient: one method per API operation, each with its retries, never past the deadline
- `transport.py`  sending one request within its time limits, and sorting every `requests`/urllib3 failure
                  into retryable (TransientError, with whether Qovery may have acted) or not (ApiError)
- `network.py`    the proxy (HTTPS_PROXY, ALL_PROXY, NO_PROXY) and the CA bundle, from the step's environment
- `responses.py`  an HTTP status sorted into success, retryable or refused, with what to fix; JSON text
                  made safe to write
- `retry.py`      the retry policy as small pure functions, and the deadline-bound retry loop (a 429 is
                  waited out until the deadline, never counted as a failed attempt)
- `ratelimit.py`  Qovery's rate limit as each answer states it (`X-RateLimit-*`): the budget left, and the
                  spacing between requests that makes it last until the reset
- `models.py`     what is read from Qovery, parsed leniently
- `errors.py`     the API's failures: ApiError, RefusedError, TransientError; whether one is the token refused

Nothing is imported here, so that reading `api.models` (the report, the verdict rules) does not import
`requests`.
"""
