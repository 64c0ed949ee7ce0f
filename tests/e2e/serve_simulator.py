"""The process behind harness.SimulatorProcess: the simulator's built-in services on 127.0.0.1, in real time, until
its stdin closes. It prints its URL first and, once stopped, its record: its deployment requests and exchanges,
pickled. It imports only the simulator, so that it starts in a fraction of a second; the test process checks the
exchanges against the OpenAPI spec afterwards."""

from __future__ import annotations

import pickle
import sys

from qovery_job_deploy.simulator import QoverySimulator, serve


def main() -> None:
    out = sys.stdout.buffer
    sim = QoverySimulator()
    with serve(sim):
        out.write(f"{sim.url}\n".encode())
        out.flush()
        sys.stdin.buffer.read()  # until the test process closes it
    pickle.dump((sim.requests, sim.exchanges), out)
    out.flush()


if __name__ == "__main__":
    main()
