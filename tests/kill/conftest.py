def pytest_configure(config):
    # Also declared in pyproject.toml (where `make test` leaves it out); declared here so that this
    # folder runs on its own with --strict-markers.
    config.addinivalue_line("markers", "kill: SIGKILLs `vigil worker` processes while they page (`make test-kill`)")
