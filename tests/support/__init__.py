"""Helpers shared by the tests: the step's run (in-process or as a subprocess), simulated jobs, the OpenAPI
contract check, and parsers of what the runners read back."""
