"""Training sharded over devices: two CPU devices (XLA_FLAGS, set before JAX starts, so in a subprocess)
give the same PPO update as one device with the whole batch."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import jax, jax.numpy as jnp, numpy as np
    from genmimic.policy.config import PPOConfig
    from genmimic.policy.errors import PolicyError
    from genmimic.policy.ppo import Transition, init_state, make_update
    from genmimic.policy.config import config_from_dict
    from genmimic.policy.sharding import device_mesh, replicate, shard_envs, training_mesh
    from genmimic.policy.toy_env import ACT_MIRROR, OBS_MIRROR

    assert len(jax.devices()) == 2, jax.devices()
    cfg = PPOConfig(hidden=(16, 16), learning_rate=3e-3, unroll_length=6, num_minibatches=2, num_epochs=2)
    T, N = 6, 8
    rng = np.random.default_rng(0)
    rollout = Transition(obs=rng.normal(size=(T, N, 4)).astype(np.float32),
                         action=rng.normal(size=(T, N, 2)).astype(np.float32),
                         log_prob=rng.normal(size=(T, N)).astype(np.float32),
                         reward=rng.normal(size=(T, N)).astype(np.float32),
                         done=(rng.random((T, N)) < 0.1).astype(np.float32),
                         value=rng.normal(size=(T, N)).astype(np.float32),
                         action_mean=rng.normal(size=(T, N, 2)).astype(np.float32))
    bootstrap = rng.normal(size=(N,)).astype(np.float32)
    key = jax.random.PRNGKey(1)
    state = init_state(jax.random.PRNGKey(0), 4, 2, cfg)
    update = make_update(cfg, OBS_MIRROR, ACT_MIRROR)
    one, info1 = update(state, jax.tree.map(jnp.asarray, rollout), jnp.asarray(bootstrap), key)

    mesh = device_mesh("all")
    sharded = shard_envs(rollout, mesh, env_axis=1)
    assert len(sharded.obs.sharding.device_set) == 2
    two, info2 = update(replicate(state, mesh), sharded, shard_envs(bootstrap, mesh), key)
    for a, b in zip(jax.tree.leaves(one.params), jax.tree.leaves(two.params)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(info1.total), np.asarray(info2.total), rtol=1e-5)
    assert any(float(jnp.abs(a - b).max()) > 1e-4 for a, b in
               zip(jax.tree.leaves(state.params), jax.tree.leaves(two.params)))  # it did update
    for bad in (3, "some"):
        try:
            device_mesh(bad)
            raise SystemExit(f"device_mesh({bad!r}) accepted")
        except PolicyError:
            pass
    try:
        shard_envs(np.zeros((3, 2)), mesh)
        raise SystemExit("3 envs split over 2 devices")
    except PolicyError as err:
        assert "multiple of 2" in str(err)
    cfg_devices = config_from_dict({"backend": "mjx", "devices": 1}).devices
    assert training_mesh("mjx", cfg_devices) is None and training_mesh("cpu", "all") is None
    assert training_mesh("mjx", "all").devices.size == 2 and device_mesh("1").devices.size == 1
    print("SAME")
""")


def test_two_devices_give_the_one_device_update():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    if result.returncode and "ModuleNotFoundError: No module named 'jax'" in result.stderr:
        pytest.skip("JAX not installed")
    assert result.returncode == 0 and "SAME" in result.stdout, result.stderr[-3000:]


JOIN = textwrap.dedent("""
    import sys
    from genmimic.policy.sharding import start_multihost, sum_over_devices
    pid = int(sys.argv[2])
    print(start_multihost("mjx", sys.argv[1], 2, pid, timeout_s=60))
    print("SUM", sum_over_devices(pid + 1.0))
""")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _listening():
    """A TCP socket listening on a free port (yields the port)."""
    with socket.socket() as sock:
        sock.bind(("", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _run_two(args_of) -> list[tuple[int, str, str]]:
    """Run two processes (``args_of(process_id)``, one CPU device each) to the end: (exit code, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"} | {"JAX_PLATFORMS": "cpu"}
    procs = [subprocess.Popen([sys.executable, "-c", *args_of(i)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    try:
        outputs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            p.kill()
    return [(p.returncode, out, err) for p, (out, err) in zip(procs, outputs, strict=True)]


def test_two_processes_join_and_agree_on_an_all_reduce(tmp_path):
    """A real two-process jax.distributed run on localhost, one CPU device each (about 5 s a pair)."""
    pytest.importorskip("jax")
    address = f"127.0.0.1:{_free_port()}"
    for i, (code, out, err) in enumerate(_run_two(lambda i: (JOIN, address, str(i)))):
        assert code == 0, err[-3000:]
        assert f"process {i} of 2 joined {address}: 1 local of 2 devices" in out
        assert "SUM 3.0" in out  # 1 (process 0) + 2 (process 1), the same on both
    # `train` joins, then says in one line that the student phase (in --phase all) is single-process
    (tmp_path / "mjx.json").write_text('{"backend": "mjx"}')
    address = f"127.0.0.1:{_free_port()}"
    cli = "from genmimic.policy.cli import app; app(prog_name='genmimic-policy')"
    for i, (code, _, err) in enumerate(_run_two(lambda i: (
            cli, "train", "-v", "--clips", str(tmp_path), "--out", str(tmp_path / f"run{i}"), "--config",
            str(tmp_path / "mjx.json"), "--coordinator", address, "--num-processes", "2", "--process-id", str(i)))):
        assert code == 1 and f"process {i} of 2 joined" in err, err[-3000:]
        assert "the student (DAgger) phase runs in one process" in err and "Traceback" not in err
        assert not (tmp_path / f"run{i}").exists()


def test_multihost_options_fail_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from genmimic.policy.cli import app
    from genmimic.policy.errors import PolicyError
    from genmimic.policy.sharding import initialize_distributed, parse_coordinator, start_multihost

    assert parse_coordinator("localhost:12355") == ("localhost", 12355)
    assert parse_coordinator("[::1]:80") == ("::1", 80)
    for bad in ("node0", ":12355", "node0:http", "node0:70000"):
        with pytest.raises(PolicyError, match="HOST:PORT"):
            parse_coordinator(bad)
    with pytest.raises(PolicyError, match="does not resolve"):
        parse_coordinator("no-such-host.invalid:12355")
    with pytest.raises(PolicyError, match="go together"):
        initialize_distributed("127.0.0.1:12355", None, 0)
    with pytest.raises(PolicyError, match="--process-id must be from 0 to 1"):
        initialize_distributed("127.0.0.1:12355", 2, 2)
    with pytest.raises(PolicyError, match="at least 1"):
        initialize_distributed("127.0.0.1:12355", 0, 0)
    with pytest.raises(PolicyError, match="nothing listens there after 0.5 s"):
        initialize_distributed(f"127.0.0.1:{_free_port()}", 2, 1, timeout_s=0.5)  # no process 0
    with _listening() as port, pytest.raises(PolicyError, match=f"cannot listen on port {port}"):
        initialize_distributed(f"127.0.0.1:{port}", 2, 0)
    with pytest.raises(PolicyError, match="needs the mjx backend"):
        start_multihost("cpu", "127.0.0.1:12355", 2, 0)
    args = ["train", "--clips", str(tmp_path), "--out", str(tmp_path / "run"), "--coordinator", "127.0.0.1:12355",
            "--num-processes", "2", "--process-id", "1"]
    result = CliRunner().invoke(app, args)  # the default config's backend is cpu
    assert result.exit_code != 0 and "needs the mjx backend" in result.output
    assert not (tmp_path / "run").exists()



ENV_STEP = textwrap.dedent("""
    import sys, jax, numpy as np
    sys.path.insert(0, sys.argv[1])
    from helpers import small_bank
    from genmimic.policy.config import default_config
    from genmimic.policy.env_mjx import MjxVecEnv
    from genmimic.policy.sharding import device_mesh

    assert len(jax.devices()) == 2, jax.devices()
    bank, cfg = small_bank(("wave",), 1.0), default_config().env
    actions = np.random.default_rng(0).normal(size=(2, 29)).astype(np.float32) * 0.3
    results = []
    for mesh in (None, device_mesh("all")):
        env = MjxVecEnv(bank, cfg, 2, seed=0, randomize=False, mesh=mesh)
        obs = env.reset()
        results.append((obs, env.step(actions)))
        devices = len(env.state.data.qpos.sharding.device_set)
        assert devices == (1 if mesh is None else 2), devices
    one, two = results
    for a, b in zip(jax.tree.leaves(one), jax.tree.leaves(two), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert not np.allclose(one[0][0], one[1].student)  # the step moved the observation
    print("SAME")
""")


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("GENMIMIC_SLOW_TESTS"),
                    reason="two MJX env-step compiles, ~10 min on 2 busy cores: GENMIMIC_SLOW_TESTS=1 (make test-slow)")
def test_an_env_step_split_over_two_devices_is_the_one_device_step(tmp_path):
    """Two forced CPU devices, 2 envs, reset and one control step of the mjx env: the same observations,
    rewards and flags with the envs split over the devices as on one. XLA's CPU optimisations are lowered
    (the same for both) to shorten the compiles; JAX's compilation cache goes to a temporary folder."""
    pytest.importorskip("mujoco.mjx")
    cache = tmp_path / "jax-cache"
    flags = "--xla_force_host_platform_device_count=2 --xla_backend_optimization_level=0 " \
            "--xla_llvm_disable_expensive_passes=true"
    env = {**os.environ, "XLA_FLAGS": flags, "JAX_PLATFORMS": "cpu", "JAX_COMPILATION_CACHE_DIR": str(cache)}
    tests = os.path.dirname(os.path.abspath(__file__))
    result = subprocess.run([sys.executable, "-c", ENV_STEP, tests], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=1800)
    assert result.returncode == 0 and "SAME" in result.stdout, result.stderr[-3000:]
    assert any(cache.iterdir())  # the compiled steps were cached where pointed, not in the repository


TRAIN = textwrap.dedent("""
    import dataclasses, sys
    from pathlib import Path
    import jax, numpy as np
    from genmimic.policy.sharding import initialize_distributed
    address, pid, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    initialize_distributed(address, 2, pid, timeout_s=60)
    from genmimic.policy.config import PPOConfig, default_config
    from genmimic.policy.ppo import Transition, init_state, make_update
    from genmimic.policy.sharding import data_parallel_update, device_mesh
    from genmimic.policy.toy_env import ACT_MIRROR, OBS_MIRROR, PointEnv
    from genmimic.policy.train import train_teacher

    ppo = PPOConfig(hidden=(16, 16), learning_rate=3e-3, unroll_length=5, num_minibatches=2, num_epochs=2,
                    iterations=3)
    cfg = dataclasses.replace(default_config(), ppo=ppo, checkpoint_every=2)
    info = train_teacher(out / f"run{pid}", cfg, PointEnv(num_envs=4, horizon=5, seed=pid), show_progress=False,
                         mirrors=(OBS_MIRROR, ACT_MIRROR))
    print("ITER", info["iteration"], "STEPS", info["env_steps"], "DIGEST", info["params_sha256"])
    # a larger budget resumes: process 0 from its checkpoint, process 1 (no checkpoint) from process 0's learner
    cfg = dataclasses.replace(cfg, ppo=dataclasses.replace(ppo, iterations=4))
    info = train_teacher(out / f"run{pid}", cfg, PointEnv(num_envs=4, horizon=5, seed=pid), show_progress=False,
                         mirrors=(OBS_MIRROR, ACT_MIRROR))
    print("RESUMED", info["iteration"], "STEPS", info["env_steps"], "DIGEST", info["params_sha256"])
    # one update of this process's (seeded) batch as its part of the global one
    rng = np.random.default_rng(10 + pid)
    T, N = 5, 4
    batch = Transition(*(rng.normal(size=(T, N) + s).astype(np.float32) for s in ((4,), (2,), (), (), (), (), (2,))))
    batch = batch._replace(done=(batch.done > 1).astype(np.float32))
    boot = rng.normal(size=N).astype(np.float32)
    state = init_state(jax.random.PRNGKey(0), 4, 2, ppo)
    new, _ = data_parallel_update(make_update(ppo, OBS_MIRROR, ACT_MIRROR), state, batch, boot,
                                  jax.random.PRNGKey(1), device_mesh("all"))
    np.savez(out / f"update{pid}.npz", *[np.asarray(x) for x in jax.tree.leaves(new.params)])
""")


def test_two_processes_train_one_teacher(tmp_path):
    """Two real processes (one CPU device each) train the toy env's teacher together: both end with the same
    parameters, only process 0 wrote a checkpoint and metrics, a larger budget resumes both from process 0's
    checkpoint, and one update over the two processes'
    batches is the one-process update of the batches concatenated along the env axis."""
    pytest.importorskip("jax")
    import jax
    import numpy as np

    from genmimic.policy.checkpoint import read_checkpoint
    from genmimic.policy.config import PPOConfig
    from genmimic.policy.ppo import Transition, init_state, make_update
    from genmimic.policy.sharding import params_digest
    from genmimic.policy.toy_env import ACT_MIRROR, OBS_MIRROR

    address = f"127.0.0.1:{_free_port()}"
    results = _run_two(lambda i: (TRAIN, address, str(i), str(tmp_path)))
    digests = []
    for code, out, err in results:
        assert code == 0, err[-3000:]
        line = next(x for x in out.splitlines() if x.startswith("ITER"))
        assert line.split()[:4] == ["ITER", "3", "STEPS", str(3 * 5 * 4 * 2)]
        digests.append(line.split()[-1])
    assert digests[0] == digests[1]
    resumed = [next(x for x in out.splitlines() if x.startswith("RESUMED")).split() for _, out, _ in results]
    assert [r[:4] for r in resumed] == [["RESUMED", "4", "STEPS", str(4 * 5 * 4 * 2)]] * 2
    assert resumed[0][-1] == resumed[1][-1] != digests[0]
    assert (tmp_path / "run0" / "teacher.msgpack").exists() and (tmp_path / "run0" / "metrics_teacher.csv").exists()
    assert not (tmp_path / "run1").exists() or not any((tmp_path / "run1").iterdir())
    ppo = PPOConfig(hidden=(16, 16), learning_rate=3e-3, unroll_length=5, num_minibatches=2, num_epochs=2,
                    iterations=3)
    key = jax.random.PRNGKey(0)
    state, _, _, info = read_checkpoint(tmp_path / "run0" / "teacher.msgpack", init_state(key, 4, 2, ppo), key)
    assert params_digest(state.params) == resumed[0][-1] == info["params_sha256"] and info["iteration"] == 4

    batches = []
    for pid in range(2):
        rng = np.random.default_rng(10 + pid)
        b = Transition(*(rng.normal(size=(5, 4) + s).astype(np.float32) for s in ((4,), (2,), (), (), (), (), (2,))))
        batches.append((b._replace(done=(b.done > 1).astype(np.float32)), rng.normal(size=4).astype(np.float32)))
    whole = Transition(*(np.concatenate(x, axis=1) for x in zip(batches[0][0], batches[1][0], strict=True)))
    boot = np.concatenate([batches[0][1], batches[1][1]])
    one, _ = make_update(ppo, OBS_MIRROR, ACT_MIRROR)(init_state(key, 4, 2, ppo), whole, boot, jax.random.PRNGKey(1))
    for pid in range(2):
        with np.load(tmp_path / f"update{pid}.npz") as saved:
            two = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        for a, b in zip(jax.tree.leaves(one.params), two, strict=True):
            np.testing.assert_allclose(np.asarray(a), b, rtol=1e-5, atol=1e-6)
