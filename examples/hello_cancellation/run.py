"""Start the workflow, cancel it with a grace period, show that cleanup ran.

python -m examples.hello_cancellation.run      # $CONTINUUM_DATABASE_URL, else embedded
"""

from __future__ import annotations

import continuum
from examples.hello_cancellation.flows import cancellable, cleanup, long_job


def main() -> str:
    client = continuum.Client()
    worker = continuum.Worker(client, workflows=[cancellable], activities=[long_job, cleanup])
    with worker:
        run_id = client.start(cancellable, "report-7")
        print("status:", client.get_event(run_id, "status", timeout=30))
        client.cancel(run_id, grace=continuum.seconds(30))
        try:
            client.result(run_id, timeout=30)
        except continuum.RunCancelled:
            print("run", client.get_run(run_id).state.value)
        status = client.get_event(run_id, "status", timeout=30)
        print("status:", status)
    client.close()
    return str(status)


if __name__ == "__main__":
    main()
