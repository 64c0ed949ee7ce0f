import sys

from qovery_job_deploy.cli import main

sys.exit(main())
