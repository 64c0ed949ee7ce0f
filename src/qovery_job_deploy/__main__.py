import sys

from qovery_job_deploy.main import main

sys.exit(main())
