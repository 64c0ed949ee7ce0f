"""Container entrypoint: the whole program lives in the package; this only hands over the exit code."""

import sys

from qovery_job_deploy.cli import main

if __name__ == "__main__":
    sys.exit(main())
