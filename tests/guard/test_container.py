"""Container ids: read from the naming of each runtime, and matched by id in the kernel."""

from __future__ import annotations

import contextlib
import os
import shutil

import pytest

from pybpf.guard.cgroups import container_id
from tests.guard.conftest import GuardRun, run_in
from tests.kernel.leaks import no_kernel_objects_left

ID = "4f3a" + "0123456789abcdef" * 3 + "0123456789ab"
assert len(ID) == 64


@pytest.mark.parametrize("path", [
    f"/system.slice/docker-{ID}.scope",                                   # docker, systemd
    f"/docker/{ID}",                                                      # docker, cgroupfs
    (f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/"
    f"cri-containerd-{ID}.scope"),                                        # containerd
    f"/system.slice/containerd.service/kubepods-pod1.slice:cri-containerd:{ID}",
    f"/kubepods.slice/kubepods-pod1.slice/crio-{ID}.scope",               # cri-o
    f"/machine.slice/libpod-{ID}.scope/container",                        # podman
    f"/kubepods/besteffort/pod1234/{ID}",                                 # cgroupfs kubelet
])
def test_container_id_of_each_naming(path):
    assert container_id(path) == ID


def test_no_container_id():
    assert container_id("/user.slice/user-0.slice/session-1.scope") == ""
    assert container_id("/system.slice/docker.service") == ""


@pytest.mark.kernel
def test_rule_by_container_id(cgroup, tmp_path):
    """A cgroup named as docker names it: the rule names the id (12 digits), the kernel
    matches the cgroup, the event carries the id."""
    scope = os.path.join(cgroup, f"docker-{ID}.scope")
    os.mkdir(scope)
    forbidden = tmp_path / "forbidden"
    shutil.copy("/usr/bin/true", forbidden)
    run = GuardRun(cgroup)
    try:
        with no_kernel_objects_left(lambda n: n.startswith("guard_")):
            from pybpf.guard import Guard, parse_policy
            policy = parse_policy(f"""
rules:
  - name: in-container
    on: exec
    match:
      binary: {forbidden}
      container: {ID[:12]}
    action: kill
""")
            with Guard(policy, run.events.append, cgroup=cgroup).start() as g:
                run.guard = g
                assert run_in(scope, [str(forbidden)]).returncode == -9
                assert run_in(cgroup, [str(forbidden)]).returncode == 0   # not in it
                run.collect(lambda ev: len(ev) >= 1)
    finally:
        with contextlib.suppress(OSError):
            os.rmdir(scope)
    (ev,) = run.events
    assert ev["container"] == ID and ev["cgroup"].endswith(f"docker-{ID}.scope")
