"""testinfra's docker:// backend against a container started through strata's socket: it
runs `docker exec` with DOCKER_HOST pointing at the service."""
import testinfra


def test_testinfra_docker_backend_reaches_a_container_started_through_the_socket(service, monkeypatch):
    run = service.docker("run", "-d", "--name", "infra", "bb", "sh", "-c",
                         "echo served > /www/index.html; exec httpd -f -p 80 -h /www")
    assert run.returncode == 0, run.stderr
    monkeypatch.setenv("DOCKER_HOST", service.url)
    try:
        host = testinfra.get_host("docker://infra")
        assert host.file("/www/index.html").content_string == "served\n"
        assert host.file("/etc/passwd").contains("root")
        assert host.run("id -u").stdout.strip() == "0"
        assert host.run("sh -c 'exit 7'").rc == 7
        assert host.exists("httpd")
        assert host.check_output("hostname") == run.stdout.strip()[:12]
    finally:
        assert service.docker("rm", "-f", "infra").returncode == 0
