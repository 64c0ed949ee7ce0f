"""The edges of the program: TLS trust, proxies, cancellation of our request, unexpected errors, debug
mode."""

from __future__ import annotations

import signal
import socket
import ssl
import struct
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme
from support.inputs import inputs, job_inputs
from support.sims import TOKEN, SimFactory, finish, job, served
from support.step import github_env, plain_env, run_in_process, run_step

from qovery_job_deploy.api.client import QoveryClient
from qovery_job_deploy.api.errors import ApiError, TransientError
from qovery_job_deploy.clock import Deadline, VirtualClock
from qovery_job_deploy.deploy import Deployments
from qovery_job_deploy.kinds import JOB
from qovery_job_deploy.simulator import Fault, JobScript, QoverySimulator


@pytest.fixture
def https_simulator(tmp_path: Path) -> Iterator[tuple[QoverySimulator, JobScript, Path]]:
    """The simulator behind TLS, its certificate issued by a private CA (as behind a corporate proxy)."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "corporate-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    script = job((0.0, "QUEUED"), (0.1, "DEPLOYED"))  # TLS is the point, not the wait: a short deployment
    sim = served(script, tls=context)  # over a real socket, the step as a process
    yield sim, script, ca_file
    finish(sim)


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_corporate_ca_is_honoured(
    https_simulator: tuple[QoverySimulator, JobScript, Path], variable: str
) -> None:
    sim, script, ca_file = https_simulator
    env = plain_env(job_inputs(sim, script, poll_interval="0.2s"))
    run = run_step(env | {variable: str(ca_file)})

    assert sim.url.startswith("https://")
    assert run.code == 0, run.stderr


def test_tls_verification_is_never_skipped(https_simulator: tuple[QoverySimulator, JobScript, Path]) -> None:
    sim, script, _ = https_simulator
    env = plain_env(inputs(job_id=script.job_id, api_url=sim.url))
    run = run_step(env)

    assert run.code == 3
    assert "could not be verified" in run.stderr and "REQUESTS_CA_BUNDLE" in run.stderr
    assert sim.deployments_of(script.job_id) == []


def test_cancel_on_abort_cancels_our_request_only(served_simulator: SimFactory, tmp_path: Path) -> None:
    script = job((0.0, "QUEUED"), (0.2, "EXECUTING"), (120.0, "DEPLOYED"))
    sim = served_simulator(script)
    env, files = github_env(
        tmp_path,
        job_inputs(sim, script, **{"cancel-on-abort": "true"}),
    )
    run = run_step(env, files, signal_when=lambda: sim.calls("status") >= 2, signum=signal.SIGINT)

    assert run.code == 130, run.stderr
    assert run.seconds < 7.5  # inside GitHub's 7.5 s from SIGINT to SIGTERM, even on a loaded machine
    (ours,) = sim.deployments_of(script.job_id)
    assert ours.canceled_at is not None
    cancels = [e for e in sim.exchanges if e.path.endswith("/cancelDeployment")]
    assert [e.path for e in cancels] == [f"/deploymentQueue/{ours.id}/cancelDeployment"]
    assert run.outputs()["verdict"] == "cancelled"
    assert "request was cancelled" in run.outputs()["result"]


def test_abort_without_cancel_on_abort_leaves_the_deployment_running(served_simulator: SimFactory) -> None:
    script = job((0.0, "QUEUED"), (120.0, "DEPLOYED"))
    sim = served_simulator(script)
    env = plain_env(job_inputs(sim, script))
    run = run_step(env, signal_when=lambda: sim.calls("status") >= 2)

    assert run.code == 143
    assert sim.deployments_of(script.job_id)[0].canceled_at is None
    assert sim.calls("cancel") == 0


def test_cancel_on_timeout(simulator: SimFactory) -> None:
    script = job((0.0, "QUEUED"), (120.0, "DEPLOYED"))
    sim = simulator(script)
    env = plain_env(inputs(job_id=script.job_id, api_url=sim.url, timeout="2s", cancel_on_timeout="1"))
    run = run_step(env)

    assert run.code == 124, run.stderr
    assert sim.deployments_of(script.job_id)[0].canceled_at is not None
    assert "Cancelled deployment request" in run.stderr
    assert "our deployment request was cancelled" in run.json()["message"]  # not "still in progress"


@pytest.mark.parametrize("option", ["cancel-on-timeout", "cancel-on-abort"])
def test_a_failed_cancel_says_why_and_that_the_deployment_may_keep_running(
    simulator: SimFactory, served_simulator: SimFactory, option: str
) -> None:
    """Not the advice to set the option that is set: what failed, and what that means."""
    script = job((0.0, "QUEUED"), (0.3, "EXECUTING"), (120.0, "DEPLOYED"))
    abort = option == "cancel-on-abort"
    sim = (served_simulator if abort else simulator)(script)  # a signal needs a process
    sim.faults["cancel"] = deque([Fault(status=500)])
    env = plain_env(job_inputs(sim, script, timeout="2s" if not abort else "60s", **{option: "true"}))
    run = run_step(env, signal_when=(lambda: sim.calls("status") >= 2) if abort else None)

    assert run.code == (143 if abort else 124), run.stderr
    message = run.json()["message"]
    assert "ancelling our deployment request failed (Qovery answered HTTP 500 to POST)" in message
    assert "may keep running in Qovery" in message or "may still run in Qovery" in message
    assert f"set `{option}`" not in message and sim.calls("cancel") == 1


def test_a_timeout_without_cancelling_says_the_deployment_keeps_running(simulator: SimFactory) -> None:
    script = job((0.0, "QUEUED"), (0.3, "EXECUTING"), (120.0, "DEPLOYED"))
    sim = simulator(script)
    given = inputs(job_id=script.job_id, api_url=sim.url, timeout="2s")
    run = run_step(plain_env(given | {"poll-interval": "0.2s"}))

    assert run.code == 124, run.stderr
    assert sim.deployments_of(script.job_id)[0].canceled_at is None
    message = run.json()["message"]
    assert "(EXECUTING)" in message and "keeps running in Qovery" in message
    assert "raise `timeout`" in message and "cancel-on-timeout" in message


class Boom(RuntimeError):
    pass


@pytest.mark.parametrize(
    ("debug_env", "traceback_shown"),
    [({}, False), ({"RUNNER_DEBUG": "1"}, True), ({"QOVERY_DEBUG": "true"}, True)],
)
def test_an_unexpected_error_is_one_line_and_exit_3_unless_debugging(
    simulator: SimFactory, monkeypatch: pytest.MonkeyPatch, debug_env: dict[str, str], traceback_shown: bool
) -> None:
    """In-process, with a fault planted where no fault should be: the boundary in `main` must catch it."""
    script = job()
    sim = simulator(script)

    def explode(*args: object, **kwargs: object) -> None:
        raise Boom("something nobody planned for")

    monkeypatch.setattr(Deployments, "run", explode)
    environ = {
        "QOVERY_API_TOKEN": TOKEN,
        "QOVERY_JOB_ID": script.job_id,
        "QOVERY_API_URL": sim.url,
    } | debug_env
    run = run_step(environ)  # in-process: the planted fault is in this process

    assert run.code == 3
    assert "Unexpected error: Boom: something nobody planned for" in run.stderr
    assert ("Traceback (most recent call last)" in run.stderr) is traceback_shown
    assert run.json()["verdict"] == "error"


@pytest.mark.parametrize(
    ("case", "api_url", "extra_env", "said", "tries"),
    [
        (
            "dns",
            "https://qovery-job-deploy.invalid",  # RFC 6761: .invalid never resolves
            {},
            "the host name qovery-job-deploy.invalid does not resolve (DNS). Check `api-url` "
            "(https://qovery-job-deploy.invalid) and the runner's DNS",
            2,
        ),
        (
            "proxy",
            "https://qovery-job-deploy.invalid",
            {"HTTPS_PROXY": "http://user:proxy-password@127.0.0.1:9"},
            "could not reach qovery-job-deploy.invalid through the proxy 127.0.0.1:9. Check HTTPS_PROXY "
            "(and NO_PROXY",
            2,
        ),
        (
            "a proxy with a malformed port",  # named by its host: the message must not crash on the port
            "https://qovery-job-deploy.invalid",
            {"HTTPS_PROXY": "http://127.0.0.1:badport"},
            "Check HTTPS_PROXY",
            None,
        ),
        (
            "no proxy for this host",
            "https://qovery-job-deploy.invalid",
            {"HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ".invalid"},
            "does not resolve (DNS)",
            2,
        ),
        (
            "refused",
            "http://127.0.0.1:9",
            {},
            "127.0.0.1:9 refused the connection. Check `api-url` (http://127.0.0.1:9) and its port",
            None,  # a restarting API refuses for a moment: the usual retries, within `timeout`
        ),
    ],
)
def test_an_unreachable_api_names_the_host_the_failure_and_the_fix(
    case: str, api_url: str, extra_env: dict[str, str], said: str, tries: int | None
) -> None:
    env = plain_env(inputs(job_id=str(uuid.uuid4()), api_url=api_url, timeout="3s"))
    run = run_step(env | extra_env)

    assert run.code == 3, run.stderr
    assert said in run.stderr and said in run.json()["message"]
    if tries is not None:  # fails fast: one retry, not 30 s of them
        assert run.stderr.count("retrying in") == tries - 1
    assert "proxy-password" not in run.everything()
    assert run.stderr.count("Check ") == 1  # the fix is said once, at the end, not in every retry's warning


def test_a_tls_handshake_failure_names_the_host_and_the_fix(served_simulator: SimFactory) -> None:
    """An https:// api-url pointed at a plain-HTTP server: no certificate involved, the handshake fails."""
    sim = served_simulator(job())
    https_url = sim.url.replace("http://", "https://")
    env = plain_env(inputs(job_id=str(uuid.uuid4()), api_url=https_url))
    run = run_step(env)

    host = https_url.removeprefix("https://")
    assert run.code == 3, run.stderr
    assert f"the TLS handshake with {host} failed" in run.stderr
    assert "is an HTTPS endpoint" in run.stderr and "REQUESTS_CA_BUNDLE" in run.stderr
    assert run.stderr.count("retrying in") == 1


def test_a_signal_during_the_post_does_not_claim_that_nothing_was_deployed(
    served_simulator: SimFactory,
) -> None:
    """The POST was sent and hangs: Qovery may act on it, so the report must not say it did not."""
    script = job()
    script.faults["deploy"] = deque([Fault(kind="hang", seconds=10)])
    sim = served_simulator(script)
    env = plain_env(inputs(job_id=script.job_id, api_url=sim.url))
    run = run_step(env, signal_when=lambda: sim.calls("deploy") >= 1, signum=signal.SIGTERM)

    assert run.code == 143, run.stderr
    message = run.json()["message"]
    assert "a deployment may have been requested" in message and "nothing was deployed" not in message


ClientFactory = Callable[[str, dict[str, str]], QoveryClient]


@pytest.fixture
def client_for() -> Iterator[ClientFactory]:
    """Real clients on the real network, their retries on a virtual clock; closed at the end."""
    made: list[QoveryClient] = []

    def make(url: str, environ: dict[str, str]) -> QoveryClient:
        clock = VirtualClock()
        made.append(
            QoveryClient(
                url,
                f"Token {TOKEN}",
                clock=clock,
                deadline=Deadline(clock.now() + 30, clock),
                environ=environ,
            )
        )
        return made[-1]

    yield make
    for client in made:
        client.close()


# The process's own variables, which the client must ignore: only the environment it is given counts.
PROCESS_PROXIES = {name: "http://127.0.0.1:9" for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")}


def test_the_proxy_comes_from_the_given_environment_not_the_process(
    served_simulator: SimFactory, client_for: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = job()
    sim = served_simulator(script)
    for name, value in PROCESS_PROXIES.items():
        monkeypatch.setenv(name, value)
        monkeypatch.setenv(name.lower(), value)
    client = client_for(sim.url, {})
    assert client.status(JOB, script.job_id).state

    proxied = client_for(sim.url, {"HTTP_PROXY": "http://user:proxy-password@127.0.0.1:9"})
    with pytest.raises(TransientError) as raised:
        proxied.status(JOB, script.job_id)
    assert "through the proxy 127.0.0.1:9. Check HTTPS_PROXY" in str(raised.value)
    assert "proxy-password" not in str(raised.value)

    malformed = client_for(sim.url, {"HTTP_PROXY": "http://127.0.0.1:badport"})
    with pytest.raises(TransientError, match=r"the proxy URL could not be parsed\. Check HTTPS_PROXY"):
        malformed.status(JOB, script.job_id)

    bypassed = client_for(sim.url, {"HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1"})
    assert bypassed.status(JOB, script.job_id).state


def test_the_ca_bundle_comes_from_the_given_environment_not_the_process(
    https_simulator: tuple[QoverySimulator, JobScript, Path],
    client_for: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim, script, ca_file = https_simulator
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(ca_file))
    with pytest.raises(ApiError, match="could not be verified"):
        client_for(sim.url, {}).status(JOB, script.job_id)

    assert client_for(sim.url, {"SSL_CERT_FILE": str(ca_file)}).status(JOB, script.job_id).state


# -- before the first POST, a network that fails ends the step in seconds -----------------------------------


@pytest.mark.parametrize(
    ("fault", "said", "within", "tries"),
    [
        (Fault(kind="hang", seconds=600), "no response in time", 60.0, 2),  # silence: 2 reads of 30 s
        (Fault(kind="reset"), "connection broke", 30.0, 5),  # drops: 5 tries, the backoff in between
        (Fault(status=503), "HTTP 503", 30.0, 5),
    ],
)
def test_before_the_first_post_a_failing_network_gives_up_in_seconds(
    simulator: SimFactory, fault: Fault, said: str, within: float, tries: int
) -> None:
    script = job()
    script.faults["status"] = deque([fault] * 20)
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script)))  # the default `timeout`: 30 minutes

    assert run.code == 3, run.stderr
    assert run.seconds <= within  # virtual seconds: the step's own clock
    assert sim.calls("status") == tries and sim.calls("deploy") == 0
    message = run.json()["message"]
    assert said in message and "Nothing was deployed" in message
    if fault.kind != "http":  # the network's fault: what to check
        assert "the proxy variables (HTTPS_PROXY, NO_PROXY" in message and "firewall" in message


def test_after_the_first_post_reads_keep_their_patience(simulator: SimFactory) -> None:
    script = job((0.0, "QUEUED"), (150.0, "DEPLOYED"))
    script.faults["status"] = deque([None, *[Fault(kind="hang", seconds=600)] * 3])
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script, timeout="10m")))

    assert run.code == 0, run.stderr  # three silent reads of 30 s: waited through, past the first minute
    assert run.seconds > 90


def test_a_silent_listener_on_loopback_is_named_with_what_to_check() -> None:
    """A real socket that accepts and never answers: the message names the host and what to check."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        host = f"127.0.0.1:{listener.getsockname()[1]}"
        env = plain_env(inputs(job_id=str(uuid.uuid4()), api_url=f"http://{host}"))
        run = run_in_process(env | {"QOVERY_REQUEST_TIMEOUT": "0.5s"})  # tries of the shortest real wait

    assert run.code == 3, run.stderr
    message = run.json()["message"]
    assert f"no response in time: {host} took the request and said nothing" in message
    assert "Check `api-url` (http://" in message and "firewall" in message


def test_a_silent_listener_cut_by_the_step_s_deadline_says_what_to_check_too() -> None:
    """When the step's own budget ends before the request's timeout, the wall clock cuts the call: the
    message still says what to check, not only how long it waited."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        host = f"127.0.0.1:{listener.getsockname()[1]}"
        env = plain_env(inputs(job_id=str(uuid.uuid4()), api_url=f"http://{host}"))
        run = run_in_process(env | {"QOVERY_REQUEST_TIMEOUT": "10s", "QOVERY_TIMEOUT": "2s"})

    assert run.code == 3 and run.json()["verdict"] == "error", run.stderr  # nothing was posted
    message = run.json()["message"]
    assert "no complete answer within" in message
    assert "Check `api-url` (http://" in message and "firewall" in message


def test_a_loopback_listener_that_drops_each_connection_is_named_with_what_to_check() -> None:
    """A real socket that accepts and resets every connection at once: five tries, then the host named."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(0.2)
        host = f"127.0.0.1:{listener.getsockname()[1]}"
        accepted: list[int] = []
        done = threading.Event()

        def drop_each() -> None:
            while not done.is_set():
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    continue
                # Linger 0: closing sends a reset, not a polite end of stream.
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.close()
                accepted.append(1)

        dropper = threading.Thread(target=drop_each, daemon=True)
        dropper.start()
        job_id = str(uuid.uuid4())
        env = plain_env(inputs(job_id=job_id, api_url=f"http://{host}"))
        try:
            run = run_in_process(env)  # retries paced on the virtual clock; the sockets are real
        finally:
            done.set()
            dropper.join(timeout=5)

    assert run.code == 3, run.stderr
    # Every request met the real listener and each was said in the log; the status read gave up after
    # five tries, before any POST (the name read before it, which only adds names, tried once).
    tries = [line for line in run.stderr.splitlines() if "GET /" in line and host in line]
    assert len(accepted) == len(tries) and sum("/status" in line for line in tries) == 5
    message = run.json()["message"]
    # The reset lands before the request is sent, or (on a loaded machine, when the listener accepts late)
    # after: each is said as what it is, as the README's network table has it.
    said = message.split(f"Nothing was deployed: GET /job/{job_id}/status: ", 1)[-1]
    assert said.startswith((f"{host} reset the connection", f"the connection broke before {host} answered"))
    assert f"Check `api-url` (http://{host}), the proxy variables" in message and "firewall" in message
