"""The step's inputs: one settings model, each input from a CLI flag, a GitHub `INPUT_*` variable or a
`QOVERY_*` variable, validated before any request is sent, every problem reported with its fix.

By concern, each module importing only those above it:

- `durations`: `90s`, `1m30s`, `1h` parsed and formatted; the bounds of a duration input (`Duration`); the
  default and limit durations.
- `names`: what an input is called (`--job-id`, `INPUT_JOB-ID`, `QOVERY_JOB_ID`), and on each platform
  (`Platform`: GitHub's `with:`, GitLab's variables, `docker run -e` or a flag); `Given`, one value and where
  it came from, described in the platform's words without ever printing a token back; the tokens in a text
  (`find_tokens`), what in a value to mask (`token_parts`) and what never to show (`holds_a_token`).
- `variables`: the variables set that no input reads but that are a typo away from an input's
  (`QOVERY_SEQUENTAIL`), each with the one it likely means, by name only.
- `messages`: the error text: one line per invalid input, with the rejected value, its origin and the fix
  (FIX_HINTS; BOOLEAN_FIX lists the words a boolean takes), a missing input's likely misspelled variable;
  the inputs that exclude each other (EXCLUSIVE).
- `model`: the pydantic-settings `Settings` model, its validators, and its helpers (`split_job_refs`,
  `ServiceRef` and `split_service_refs`: `services` items, `TYPE:NAME`); adding an input is one field there.
- `cli`: the argparse command line built from the model's fields (`cli_parser`): `--help` in the user's
  terms, and the command line's own errors.
- `sources`: where values come from and which wins (flag > INPUT_* > QOVERY_*): `gather`, `load_settings`,
  `changed_inputs`; `misspelled_variables`, and `input_values` (what may hold a token, for masking).
"""
