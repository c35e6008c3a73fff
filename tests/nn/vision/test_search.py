"""`python -m nn.vision search`: the flags, the study (continued, shared by worker processes
and machines), pruning, interruptions and the outputs, on digits with tiny trials."""

import csv
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from nn.vision import cli as cmd
from nn.vision import search
from nn.vision.train import DEFAULTS

ROOT = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}  # the subprocesses import this checkout
QUICK = ["--model", "mlp", "--data", "digits", "--limit", "200", "--epochs", "1",
         "--batch-size", "32", "--optimizer", "adam"]


def run(*argv, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "nn.vision", "search", *argv], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)


def read_csv(out):
    with open(out / "search.csv") as f:
        return list(csv.DictReader(f))


def wait_for(condition, seconds=120):
    end = time.time() + seconds
    while not condition():
        assert time.time() < end, "timed out"
        time.sleep(0.2)


# -- the flags ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("1e-4:1e-1", search.Dimension("lr", low=1e-4, high=1e-1, log=True)),
    ("1e-4:1e-1:linear", search.Dimension("lr", low=1e-4, high=1e-1)),
    ("0.01", search.Dimension("lr", choices=(0.01,))),
    ("0.01,0.1,0.01", search.Dimension("lr", choices=(0.01, 0.1))),
])
def test_lr_ranges_are_log_unless_said(text, expected):
    assert search.FLAGS[0](text) == expected


@pytest.mark.parametrize("flag,text,expected", [
    ("--momentum", "0.8:0.99", search.Dimension("momentum", low=0.8, high=0.99)),
    ("--weight-decay", "1e-5:1e-2:log",
     search.Dimension("weight_decay", low=1e-5, high=1e-2, log=True)),
    ("--width", "16:64", search.Dimension("width", low=16, high=64, integer=True)),
    ("--batch-size", "32,64,128", search.Dimension("batch_size", choices=(32, 64, 128))),
    ("--optimizer", "sgd,adam", search.Dimension("optimizer", choices=("sgd", "adam"))),
    ("--epochs", "3", search.Dimension("epochs", choices=(3,))),
])
def test_other_ranges_are_linear_unless_said(flag, text, expected):
    args = cmd.build_parser().parse_args(["search", flag, text])
    assert getattr(args, expected.name) == expected


def test_flags_not_given_keep_trains_defaults():
    searched = cmd.build_parser().parse_args(["search"])
    for f in search.FLAGS[1:]:
        assert getattr(searched, f.name) in (None, search.Dimension(
            f.name, choices=(DEFAULTS[f.name],))), f.name
    assert searched.lr == search.Dimension("lr", low=1e-4, high=1e-1, log=True)


@pytest.mark.parametrize("argv,message", [
    (["--lr", "nan"], "argument --lr: got 'nan' (nan is not finite)"),
    (["--lr", "inf"], "argument --lr: got 'inf' (inf is not finite)"),
    (["--lr", "-0.1"], "argument --lr: got '-0.1' (-0.1 is not allowed)"),
    (["--lr", "0:1e-1"], "argument --lr: got '0:1e-1' (0 is not allowed)"),
    (["--lr", "1e-1:1e-4"], "(low must be below high); expected a value, a list a,b,c or a range"),
    (["--weight-decay", "0:1e-3:log"], "argument --weight-decay: got '0:1e-3:log' (a log range "
                                       "needs low > 0)"),
    (["--weight-decay", "-1"], "argument --weight-decay: got '-1' (-1 is not allowed)"),
    (["--momentum", "0.5:1"], "argument --momentum: got '0.5:1' (1 is not allowed)"),
    (["--dropout", "nan"], "argument --dropout: got 'nan' (nan is not finite)"),
    (["--batch-size", "32,6.5"], "argument --batch-size: got '32,6.5' ('6.5' is not an integer)"),
    (["--width", "0:8"], "argument --width: got '0:8' (0 is not allowed)"),
    (["--depth", "1:3:cubic"], "argument --depth: got '1:3:cubic' (a range is low:high"),
    (["--epochs", "0"], "argument --epochs: got '0' (0 is not allowed)"),
    (["--optimizer", "sgd,lbfgs"], "argument --optimizer: got 'sgd,lbfgs' (lbfgs is not allowed)"),
    (["--optimizer", "sgd:adam"], "(names take a list, not a range)"),
    (["--schedule", "linear"], "argument --schedule: got 'linear' (linear is not allowed)"),
    (["--trials", "0"], "argument --trials: got '0'; expected an integer >= 1"),
    (["--jobs", "-2"], "argument --jobs: got '-2'; expected an integer >= 1"),
    (["--timeout", "nan"], "argument --timeout: got 'nan'; expected seconds > 0"),
    (["--seed", "-1"], "argument --seed: got '-1'; expected an integer >= 0"),
    (["--limit", "-5"], "argument --limit: got '-5'; expected an integer >= 0"),
    (["--val-fraction", "1.0"], "argument --val-fraction: got '1.0'; expected a number in (0, 1)"),
    (["--pruner-startup", "x"], "argument --pruner-startup: got 'x'; expected an integer >= 0"),
    (["--sampler", "cmaes"], "argument --sampler: invalid choice: 'cmaes'"),
    (["--pruner", "always"], "argument --pruner: invalid choice: 'always'"),
    (["--model", "vgg"], "argument --model: invalid choice: 'vgg'"),
    (["--storage", "study.db"], "argument --storage: got 'study.db'; expected a database URL"),
    # what the flags mean together: checked before anything is created or loaded
    (["--sampler", "grid", "--batch-size", "32,64"], "--sampler grid needs a list of values for "
     "every searched flag: --lr is the range 0.0001:0.1:log (give a list, e.g. --lr "
     "0.0001,0.1)"),
    (["--lr", "0.01"], "nothing to search: every flag has one value"),
    (["--model", "lenet5", "--depth", "2:4"], "--depth: lenet5 has a fixed depth"),
])
def test_bad_flags_exit_2_with_one_line_naming_them(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as e:
        cmd.main(["search", *argv, "--out", str(tmp_path / "run")])
    assert e.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("python -m nn.vision search: error: ") and message in error, error
    assert not (tmp_path / "run").exists()


def test_an_out_that_is_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit) as e:
        cmd.main(["search", "--out", str(tmp_path / "file")])
    assert e.value.code == 2 and "--out " in capsys.readouterr().err


def test_without_optuna_the_command_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(SystemExit) as e:
        cmd.main(["search", *QUICK, "--out", str(tmp_path / "run")])
    assert e.value.code == 1
    assert "the search needs Optuna: pip install 'autodiff-nn[vision]'" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_optuna_is_imported_only_by_a_search():
    code = ("import sys, nn, nn.vision.cli as t, nn.vision.search\n"
            "t.build_parser().parse_args(['search', '--lr', '1e-3:1e-1'])\n"
            "assert 'optuna' not in sys.modules and 'sqlalchemy' not in sys.modules")
    r = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_sweep_maps_onto_the_grid_sampler():
    args = cmd.build_parser().parse_args(
        ["sweep", "--lr", "0.1", "0.01", "--batch-sizes", "32", "64", "--width", "8", "16",
         "--random", "3", "--out", "runs/s"])
    argv = search.sweep_argv(args)
    assert argv[:5] == ["search", "--sampler", "grid", "--pruner", "none"]
    assert argv[argv.index("--width") + 1] == "8,16" and "--depth" not in argv
    assert argv[-2:] == ["--trials", "3"]  # 3 of the 8 grid points
    plan = search.make_plan(cmd.build_parser().parse_args(argv))
    assert plan.trials == 3 and [d.name for d in plan.searched] == ["lr", "batch_size", "width"]
    args.random = 0
    assert search.sweep_argv(args)[-2:] == ["--trials", "8"]



def test_workers_sample_with_seeds_of_their_own_but_share_the_grid_order():
    import optuna

    def first_lrs(argv, key):
        plan = search.make_plan(cmd.build_parser().parse_args(["search", *argv]))
        study = optuna.create_study(sampler=search._sampler(plan, key))
        return [study.ask().suggest_float("lr", 1e-4, 1e-1, log=True) if plan.sampler != "grid"
                else study.ask().suggest_categorical("lr", [1e-3, 1e-2, 1e-1])
                for _ in range(3)]

    for sampler in ("random", "tpe"):
        argv = ["--sampler", sampler]
        assert first_lrs(argv, (0, 0)) == first_lrs(argv, (0, 0))
        assert first_lrs(argv, (0, 0)) != first_lrs(argv, (1, 0))
    grid = ["--sampler", "grid", "--lr", "1e-3,1e-2,1e-1"]
    assert first_lrs(grid, (0, 0)) == first_lrs(grid, (1, 0))


def test_hyperband_runs_up_to_the_largest_epochs():
    plan = search.make_plan(cmd.build_parser().parse_args(
        ["search", "--pruner", "hyperband", "--epochs", "2:6"]))
    pruner = search._pruner(plan)
    assert type(pruner).__name__ == "HyperbandPruner" and pruner._max_resource == 6

# -- one process ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_median_pruner_stops_a_diverging_trial_after_its_first_epoch(tmp_path):
    # the grid's order is fixed by the seed: lr 0.01, 0.02, then 1000, whose validation
    # accuracy after one epoch is far below the median of the first two trials'
    messages = logging.Handler()
    messages.emit = lambda record: logged.append(record.getMessage())
    logged = []
    logging.getLogger("optuna").addHandler(messages)  # Optuna's own handler, whatever its stream
    try:
        rows = cmd.main(["search", *QUICK, "--epochs", "2", "--lr", "1000,0.02,0.01",
                         "--sampler", "grid", "--pruner", "median", "--pruner-startup", "2",
                         "--out", str(tmp_path)])
    finally:
        logging.getLogger("optuna").removeHandler(messages)
    assert [(r["lr"], r["state"], r["epochs"]) for r in rows] == [
        (0.01, "complete", 2), (0.02, "complete", 2), (1000, "pruned", 1)]
    assert any(m.startswith("Trial 2 pruned. validation accuracy") and m.endswith("at epoch 1")
               for m in logged), logged


@pytest.mark.slow
def test_the_same_command_continues_its_study_and_another_search_is_refused(tmp_path, capsys):
    # a timeout so short that no trial starts: the study is made, with its search space
    def argv(lr="1e-3:1e-1"):
        return ["search", *QUICK, "--lr", lr, "--timeout", "1e-9", "--out", str(tmp_path)]

    assert cmd.main(argv()) == []
    assert cmd.main(argv()) == []
    out = capsys.readouterr().out
    assert "0 of 20 trials done" in out and "no plots: no completed trial" in out
    with pytest.raises(SystemExit) as e:
        cmd.main(argv("1e-3:1"))
    assert e.value.code == 2
    assert "study 'test_the_same_command_continue0' was started with --lr 0.001:0.1:log (now " \
           "0.001:1.0:log): give the study's flags to continue it, or another --out or " \
           "--study" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        cmd.main([*argv(), "--limit", "100"])
    assert e.value.code == 2 and "--limit 200" in capsys.readouterr().err


def test_a_study_of_another_program_is_not_joined(tmp_path, capsys):
    import optuna

    study = optuna.create_study(study_name="other", storage=f"sqlite:///{tmp_path}/study.db")
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=1)
    with pytest.raises(SystemExit) as e:
        cmd.main(["search", *QUICK, "--lr", "1e-3:1e-1", "--study", "other", "--out",
                  str(tmp_path)])
    assert e.value.code == 2
    assert "study 'other' in sqlite:///" in capsys.readouterr().err


@pytest.mark.skipif(search.fcntl is None, reason="no fcntl: the folder lock is POSIX only")
def test_a_second_search_on_a_running_folder_is_refused(tmp_path, capsys):
    with open(tmp_path / "search.lock", "w") as lock:
        lock.write("4242")
        lock.flush()
        search.fcntl.flock(lock, search.fcntl.LOCK_EX)
        with pytest.raises(SystemExit) as e:
            cmd.main(["search", *QUICK, "--lr", "1e-3:1e-1", "--out", str(tmp_path)])
    assert e.value.code == 1
    assert f"another search (pid 4242) is running in {tmp_path}" in capsys.readouterr().err


def test_an_unreachable_storage_is_one_line_without_its_password(tmp_path, capsys):
    url = "postgresql://nn:secret@127.0.0.1:9/nowhere"  # port 9: nothing listens
    with pytest.raises(SystemExit) as e:
        cmd.main(["search", *QUICK, "--storage", url, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert e.value.code == 1 and "secret" not in err
    assert "--storage postgresql://nn:***@127.0.0.1:9/nowhere: " in err


def test_a_missing_database_driver_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(SystemExit) as e:
        cmd.main(["search", *QUICK, "--storage", "postgresql+psycopg://nn@127.0.0.1:9/nowhere",
                  "--out", str(tmp_path)])
    assert e.value.code == 1 and "pip install 'autodiff-nn[postgres]'" in capsys.readouterr().err


@pytest.mark.slow
def test_one_completed_trial_is_plotted_without_importances(tmp_path, capsys):
    rows = cmd.main(["search", *QUICK, "--sampler", "grid", "--lr", "0.01,0.02", "--trials",
                     "1", "--out", str(tmp_path)])
    assert [r["state"] for r in rows] == ["complete"]
    assert "no importances.png: it needs two completed trials" in capsys.readouterr().out
    assert {p.name for p in tmp_path.glob("*.png")} == {"history.png", "parallel_coordinate.png",
                                                        "slice.png"}


# -- worker processes -----------------------------------------------------------------------------


@pytest.mark.slow
def test_jobs_2_runs_the_trials_in_two_processes_and_writes_the_outputs(tmp_path, capsys):
    import optuna

    rows = cmd.main(["search", *QUICK, "--lr", "1e-3:1e-1", "--optimizer", "sgd,adam",
                     "--pruner", "none", "--trials", "4", "--jobs", "2", "--out", str(tmp_path)])
    assert sorted(r["number"] for r in rows) == [0, 1, 2, 3]
    assert [r["state"] for r in rows] == ["complete"] * 4
    study = optuna.load_study(study_name=tmp_path.name, storage=f"sqlite:///{tmp_path}/study.db")
    workers = {t.user_attrs["worker"] for t in study.trials}
    assert len(workers) == 2 and not any(w.endswith(f":{os.getpid()}") for w in workers)
    assert [r["number"] for r in read_csv(tmp_path)] == ["0", "1", "2", "3"]
    assert list(read_csv(tmp_path)[0]) == ["number", "state", "lr", "optimizer", "val_accuracy",
                                           "test_accuracy", "epochs", "seconds"]
    for name in ("history", "importances", "parallel_coordinate", "slice"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000, name
    best = max(rows, key=lambda r: r["val_accuracy"])
    assert (tmp_path / "best" / "metrics.json").read_text() == \
        (tmp_path / "trials" / str(best["number"]) / "metrics.json").read_text()
    assert "test accuracy" in (tmp_path / "trials" / "0" / "log.txt").read_text()
    table = capsys.readouterr().out.split("the 4 best, by validation accuracy:\n")[1]
    assert table.splitlines()[1].split()[0] == str(best["number"])


def test_worker_processes_get_their_share_of_blas_threads(monkeypatch):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")  # the user's say wins
    with search._blas_threads(1):
        assert os.environ["OPENBLAS_NUM_THREADS"] == os.environ["OMP_NUM_THREADS"] == "1"
        assert os.environ["MKL_NUM_THREADS"] == "3"
    assert "OPENBLAS_NUM_THREADS" not in os.environ and os.environ["MKL_NUM_THREADS"] == "3"

@pytest.mark.slow
def test_sigterm_stops_the_workers_and_marks_their_trials_failed(tmp_path):
    import optuna

    search_ = run(*QUICK, "--lr", "1e-3:1e-1", "--pruner", "none", "--trials", "20", "--jobs",
                  "2", "--out", str(tmp_path))
    wait_for(lambda: (tmp_path / "trials" / "2").exists())  # a trial has finished
    search_.send_signal(signal.SIGTERM)
    _, err = search_.communicate(timeout=120)
    assert search_.returncode == 143, err
    assert "run the same command again to continue" in err and "Traceback" not in err
    study = optuna.load_study(study_name=tmp_path.name, storage=f"sqlite:///{tmp_path}/study.db")
    states = [t.state.name for t in study.trials]
    assert "COMPLETE" in states and "FAIL" in states and "RUNNING" not in states, states
    assert [r["state"] for r in read_csv(tmp_path)] == [s.lower() for s in states]


@pytest.mark.slow
def test_a_killed_search_continues_where_it_stopped(tmp_path):
    argv = [*QUICK, "--lr", "1e-3:1e-1", "--pruner", "none", "--trials", "3", "--out",
            str(tmp_path)]
    first = run(*argv, start_new_session=True)
    wait_for(lambda: (tmp_path / "trials" / "1").exists())  # trial 0 done, trial 1 running
    os.killpg(first.pid, signal.SIGKILL)
    first.communicate()
    second = run(*argv)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert "1 of 3 trials done; 2 more" in out
    assert "trial 1 was left running by a search that was killed: marked failed" in out
    assert [(r["number"], r["state"]) for r in read_csv(tmp_path)] == [
        ("0", "complete"), ("1", "fail"), ("2", "complete"), ("3", "complete")]


# -- many machines --------------------------------------------------------------------------------


def postgres_url():
    url = os.environ.get("NN_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("NN_TEST_POSTGRES_URL is not set: no PostgreSQL server to test with "
                    "(.ci/run starts one and sets it)")
    import sqlalchemy

    try:
        sqlalchemy.create_engine(url).connect().close()
    except (ImportError, sqlalchemy.exc.SQLAlchemyError) as e:
        pytest.skip(f"NN_TEST_POSTGRES_URL is set but unusable: {str(e).splitlines()[0]}")
    return url


@pytest.mark.slow
def test_two_machines_share_one_study_in_postgresql(tmp_path):
    import optuna

    url, name = postgres_url(), f"test-{uuid.uuid4().hex[:8]}"
    machines = [run(*QUICK, "--lr", "1e-3:1e-1", "--pruner", "none", "--trials", "4",
                    "--storage", url, "--study", name, "--out", str(tmp_path / f"machine{i}"))
                for i in (1, 2)]
    try:
        for m in machines:
            m.stdout_text, err = m.communicate(timeout=300)
            assert m.returncode == 0, err
        study = optuna.load_study(study_name=name, storage=url)
        numbers = [t.number for t in study.trials]
        assert len(set(numbers)) == len(numbers)
        # each machine stops when the study has 4 finished trials; the other's running one
        # finishes too (at most one more)
        assert 4 <= sum(t.state.name == "COMPLETE" for t in study.trials) <= 5
        assert len({t.user_attrs["worker"] for t in study.trials}) == 2
        # each machine's table lists the study's trials as it saw them when it stopped, in
        # order; the one that stopped last (the other had finished) lists every trial
        tables = [[int(r["number"]) for r in read_csv(tmp_path / f"machine{i}")]
                  for i in (1, 2)]
        for table in tables:
            assert table == sorted(table) and set(table) <= set(numbers) and len(table) >= 4
        assert max(tables, key=len) == sorted(numbers)
        for i, m in enumerate(machines, 1):  # best/ where the best trial (then) ran, else where
            assert (tmp_path / f"machine{i}" / "best").exists() != ("ran on" in m.stdout_text)
    finally:
        optuna.delete_study(study_name=name, storage=url)
