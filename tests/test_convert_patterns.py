"""The multi-node launcher patterns of real scripts (sbatch-in-the-wild S4), converted and
then run as SkyPilot runs ``run``: once per node, all nodes at once. Each test checks what
was started where, with which ranks and addresses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from convert_helpers import BASH, conv, notes, simulate
from corpus import corpus, needs_corpus
from slurm2sky.convert import convert
from slurm2sky.sbatch import parse_script
from slurm2sky.validate import validate_data

pytestmark = pytest.mark.skipif(BASH is None, reason="bash is needed to run the converted run")


def run_on_nodes(text: str, tmp_path: Path, **kw: object):
    c = conv(text)
    assert validate_data(c.task, "task").valid
    envs = {k: v or "" for k, v in c.task.get("envs", {}).items()}
    started, done = simulate(
        c.task["run"], c.task.get("num_nodes", 1), tmp_path=tmp_path, env=envs, **kw
    )
    for process in done:
        assert process.returncode == 0, process.stderr
    return c, started, done


def test_a_torchrun_one_task_per_node_with_c10d(tmp_path: Path) -> None:
    c, started, _ = run_on_nodes(
        """\
#SBATCH --nodes=4 --ntasks-per-node=1 --gpus-per-node=8
head_node=$(scontrol show hostnames $SLURM_JOB_NODELIST | head -n 1)
export MASTER_PORT=$((10000 + RANDOM % 50000))
srun torchrun --nnodes $SLURM_NNODES --nproc_per_node 8 --rdzv_id $RANDOM \\
    --rdzv_backend c10d --rdzv_endpoint $head_node:$MASTER_PORT train.py
""",
        tmp_path,
    )
    assert sorted(s.node for s in started) == [0, 1, 2, 3]
    assert len({s.args for s in started}) == 1  # the same rendezvous id and endpoint
    (args,) = {s.args for s in started}
    assert "--nnodes 4" in args and "--rdzv_endpoint 10.0.0.1:" in args
    assert notes(c, "approximation")  # $RANDOM seeded alike


def test_a_task_farm_of_one_node_steps_is_warned_and_the_advice_spreads_it(
    tmp_path: Path,
) -> None:
    """Steps of one node started in the background: Slurm spreads them over the job's
    nodes; run's srun starts each on the first node, which the note says. Its advice,
    --relative, spreads them."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    farm = (
        "#SBATCH -N 4 --ntasks-per-node=2\n"
        "for i in 0 1 2 3 4 5 6 7; do\n  {srun} prog $i &\ndone\nwait\n"
    )
    c, started, _ = run_on_nodes(farm.format(srun="srun -N1 -n1"), tmp_path / "a")
    (note,) = [n for n in notes(c, "srun") if "background" in n.message]
    assert (note.line, note.column, note.loses_meaning) == (4, 3, True)
    assert sorted(s.node for s in started) == [0] * 8
    c, started, _ = run_on_nodes(
        farm.format(srun="srun -N1 -n1 --relative=$(( i % 4 ))"), tmp_path / "b"
    )
    assert not [n for n in notes(c, "srun") if "background" in n.message]
    assert sorted(s.node for s in started) == [0, 0, 1, 1, 2, 2, 3, 3]


def test_a_node_rank_from_slurm_procid_inside_srun(tmp_path: Path) -> None:
    _, started, _ = run_on_nodes(
        """\
#SBATCH -N 2 --ntasks-per-node=1
srun bash -c 'torchrun --nnodes 2 --node_rank $SLURM_PROCID --master_addr x train.py'
""",
        tmp_path,
    )
    assert sorted(s.args.split()[3] for s in started) == ["0", "1"]


def test_blocks_that_set_variables_and_only_print_run_on_every_node(tmp_path: Path) -> None:
    """The batch shell ran them once and every later step had the variables they set
    (sbatch-spec §8): every node runs them, and says so."""
    c, started, _ = run_on_nodes(
        "#SBATCH -N 2 --ntasks-per-node=1\n"
        'if [ -z "$PORT" ]; then\n  PORT=29500\n  echo "port $PORT"\nfi\n'
        'case "$MODEL" in small) BS=64; echo small ;; *) BS=16 ;; esac\n'
        "read -r EPOCHS <<< 10\n"
        "srun prog --port $PORT --bs $BS --epochs $EPOCHS\n",
        tmp_path,
    )
    assert sorted((s.node, s.args) for s in started) == [
        (0, "--port 29500 --bs 16 --epochs 10"),
        (1, "--port 29500 --bs 16 --epochs 10"),
    ]
    printing = [n.line for n in notes(c, "approximation") if "every node prints" in n.message]
    assert printing == [3, 7]


def test_a_head_only_block_reads_the_status_of_the_line_before_it(tmp_path: Path) -> None:
    """The head-node guard is a command too: the block still sees, as $?, the status of
    the step before it (srun returns its tasks' highest exit code, sbatch-spec §9)."""
    c = conv(
        "#SBATCH -N 2\nsrun prog --fail\n"
        "if [ $? -ne 0 ]; then python report.py; exit 1; fi\npython evaluate.py\n"
    )
    started, done = simulate(c.task["run"], 2, tmp_path=tmp_path)
    assert sorted((s.program, s.node) for s in started) == [
        ("prog", 0),
        ("prog", 1),
        ("python", 0),
    ]
    assert [s.args for s in started if s.program == "python"] == ["report.py"]
    assert [process.returncode for process in done] == [1, 0]


def test_blocks_that_set_nothing_or_write_files_stay_on_the_head_node() -> None:
    c = conv(
        "#SBATCH -N 2\npython prepare.py > data.txt\n"
        'if [ ! -s data.txt ]; then echo "prep failed"; exit 1; fi\n'
        'if [ -z "$RUN" ]; then RUN=exp1; echo "started $RUN" >> runs.log; fi\n'
        "port=6379; ray start --head --port=$port\n"
        "cd experiments && python prepare.py\n"
        "if [ -f x ]; then OMP_NUM_THREADS=4 python prep.py; echo done; fi\n"
        "srun python train.py --run $RUN\n"
    )
    run = c.task["run"]
    head = run[run.index("# the head node only") : run.index("\nfi\n")]
    for line in ("exit 1", ">> runs.log", "ray start --head", "cd experiments", "prep.py"):
        assert line in head, line  # (an assignment before a command is the command's)
    warned = " ".join(n.message for n in notes(c, "head-only") if n.loses_meaning)
    assert "sets RUN, which later lines read" in warned and "runs cd" in warned
    assert "OMP_NUM_THREADS" not in warned
    assert not [n for n in notes(c, "approximation") if "every node prints" in n.message]


def test_the_status_a_head_only_block_reads_keeps_set_e_and_err_traps(
    tmp_path: Path,
) -> None:
    """A failure in an && list does not stop a set -e script (bash(1)); the block after
    it still reads that status, with no subshell that would exit or fire a trap."""
    c = conv(
        "#SBATCH -N 2\nset -e\ntrap 'echo trapped' ERR\nsrun prog --fail && echo ok\n"
        "if [ $? -ne 0 ]; then python notify.py; fi\npython done.py\n"
    )
    started, done = simulate(c.task["run"], 2, tmp_path=tmp_path)
    assert sorted((s.program, s.node, s.args) for s in started if s.program == "python") == [
        ("python", 0, "done.py"),
        ("python", 0, "notify.py"),
    ]
    assert [process.returncode for process in done] == [0, 0]
    assert "trapped" not in done[0].stdout


def test_calls_of_a_function_that_sets_state_run_on_every_node(tmp_path: Path) -> None:
    _, started, _ = run_on_nodes(
        "#SBATCH -N 2 --ntasks-per-node=1\n"
        'get_port() {\n  PORT=1234\n  echo "port $PORT"\n}\nget_port\n'
        "srun torchrun --master_port $PORT train.py\n",
        tmp_path,
    )
    assert sorted((s.node, s.args) for s in started) == [
        (0, "--master_port 1234 train.py"),
        (1, "--master_port 1234 train.py"),
    ]


def test_warnings_about_steps_are_not_given_where_slurm_does_the_same() -> None:
    c = conv(
        "#SBATCH -N 2 --gres=gpu:8\n"
        "for i in 0 1; do srun -N1 -n1 --relative=$i --gres=gpu:8 python w.py & done\nwait\n"
        "srun python x.py --rank \\$SLURM_PROCID\n"
    )
    assert not [n for n in notes(c, "srun") if "GPUs of its own" in n.message]
    assert not notes(c, "per-node-value")


def test_every_file_the_head_node_writes_and_every_node_reads_is_named() -> None:
    c = conv(
        "#SBATCH -N 2\npython gen.py >> list.txt\nexport A=1\npython gen.py > out.txt\n"
        "srun python d.py --list list.txt\nsrun python d.py < out.txt\n"
    )
    warned = [n.message.split(" on the head node")[0] for n in notes(c, "head-only")]
    assert "line 3 writes list.txt" in warned and "line 5 writes out.txt" in warned


def test_a_variable_that_held_the_batch_host_and_then_another_is_no_host() -> None:
    c = conv(
        "#SBATCH -N 3\nhead=$(hostname)\nhead=$(scontrol show hostnames | tail -1)\n"
        "srun -N1 -n1 -x $head python x.py\n"
    )
    assert "--relative=1" not in c.task["run"]
    assert [n for n in notes(c, "srun") if "--exclude" in n.message]


def test_a_head_only_block_that_sets_what_later_lines_read_is_warned() -> None:
    c = conv(
        "#SBATCH -N 2\nif [ -f x ]; then\n  PORT=$(cat port)\n  python prep.py\nfi\n"
        "srun python train.py --port $PORT\n"
    )
    (note,) = [n for n in notes(c, "head-only") if n.loses_meaning]
    assert (note.line, note.column) == (3, 1)
    assert "set PORT, which later lines read" in note.message
    assert 'if [ "${SKYPILOT_NODE_RANK:-0}" = 0 ]' in c.task["run"]


def test_one_task_per_node_steps_have_slurms_task_environment(tmp_path: Path) -> None:
    """Programs read the task's SLURM_* variables from their environment (Lightning,
    submitit): a step's tasks have them whether or not the script names them (§9)."""
    _, started, _ = run_on_nodes(
        "#SBATCH --nodes=2 --ntasks-per-node=1 --gres=gpu:4\nsrun python train.py\n",
        tmp_path,
        gpus=4,
    )
    assert sorted((s.node, s.procid, s.localid, s.nodeid, s.ntasks) for s in started) == [
        (0, "0", "0", "0", "2"),
        (1, "1", "0", "1", "2"),
    ]
    env = started[0].env
    assert env["SLURM_JOB_NODELIST"] == "10.0.0.1,10.0.0.2" and env["SLURM_JOB_ID"] == "7"


def test_steps_placed_by_the_batch_hosts_name_run_where_slurm_ran_them(tmp_path: Path) -> None:
    """-w $(hostname) is the batch host, the head node; -x $(hostname) every other node
    (sbatch-spec §8, §9); run expands $(hostname) on each node, so they are rewritten."""
    c, started, _ = run_on_nodes(
        "#SBATCH -N 3 --ntasks-per-node=1\n"
        "srun -N1 -n1 -w $(hostname -s) python server.py &\n"
        'srun -N2 -n2 --exclude="$SLURMD_NODENAME" python client.py\n'
        "srun -N1 -x node7 python other.py\nwait\n",
        tmp_path,
    )
    assert sorted((s.args, s.node) for s in started if s.args != "other.py") == [
        ("client.py", 1),
        ("client.py", 2),
        ("server.py", 0),
    ]
    assert not notes(c, "variable")  # $SLURMD_NODENAME was rewritten: nothing reads it
    (dropped,) = [n for n in notes(c, "srun") if "--exclude" in n.message]
    assert dropped.message.startswith("srun --exclude=node7 is dropped") and dropped.line == 5


def test_a_ray_head_started_in_the_batch_shell_runs_on_the_head_only(tmp_path: Path) -> None:
    """The batch shell starts the head once; the workers' step excludes the batch host
    by a variable that holds its name."""
    _, started, _ = run_on_nodes(
        "#SBATCH -N 3 --ntasks-per-node=1\nhead_node=$(hostname)\n"
        "ray start --head --port=6379\n"
        "srun -N2 -n2 --exclude=$head_node ray start --address=$head_node:6379 --block &\n"
        "python driver.py\n",
        tmp_path,
    )
    assert sorted((s.program, s.node, [*s.args.split(), ""][1]) for s in started) == [
        ("python", 0, ""),
        ("ray", 0, "--head"),
        ("ray", 1, "--address=10.0.0.1:6379"),
        ("ray", 2, "--address=10.0.0.1:6379"),
    ]


def test_a_file_the_head_node_writes_and_every_node_reads_is_warned() -> None:
    c = conv(
        "#SBATCH -N 2\nconfig=ds.json\ncat <<EOT > $config\n{}\nEOT\n"
        'echo " -> x" > log.txt\nif [[ $n > 0 ]]; then python prep.py | tee prep.log; fi\n'
        "srun python train.py --deepspeed $config\n"
    )
    (note,) = [n for n in notes(c, "head-only") if n.loses_meaning]
    assert note.line == 4
    assert note.message.startswith("line 4 writes $config on the head node only, and line 9")


def test_a_task_variable_in_a_steps_arguments_is_the_batch_shells(tmp_path: Path) -> None:
    """sbatch-spec §8: the batch shell expands $SLURM_PROCID in srun's arguments (0 in the
    batch step) before the tasks start; run expands it on each node: said."""
    c, started, _ = run_on_nodes(
        "#SBATCH -N 2 --ntasks-per-node=1\nsrun prog --rank $SLURM_PROCID\n", tmp_path
    )
    (note,) = notes(c, "per-node-value")
    assert (note.line, note.column, note.loses_meaning) == (3, 1, True)
    assert "$SLURM_PROCID" in note.message
    assert sorted(s.args for s in started) == ["--rank 0", "--rank 1"]  # not Slurm's 0, 0
    quoted = conv("#SBATCH -N 2\nsrun bash -c 'prog --rank $SLURM_PROCID'\n")
    assert not notes(quoted, "per-node-value")
    assert not notes(conv("#SBATCH -N 1\nsrun prog --rank $SLURM_PROCID\n"), "per-node-value")


def test_b_one_task_per_gpu_reading_slurm_variables(tmp_path: Path) -> None:
    _, started, _ = run_on_nodes(
        """\
#SBATCH -N 2 --ntasks-per-node=4 --gpus-per-task=1
export MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
srun python train.py
""",
        tmp_path,
    )
    assert len(started) == 8
    assert sorted(int(s.procid) for s in started) == list(range(8))
    assert {s.env["MASTER_ADDR"] for s in started} == {"10.0.0.1"}
    # one GPU per task: CUDA_VISIBLE_DEVICES follows the local rank
    assert sorted((s.node, s.localid, s.cuda) for s in started)[:4] == [
        (0, "0", "0"),
        (0, "1", "1"),
        (0, "2", "2"),
        (0, "3", "3"),
    ]


def test_b_srun_with_ntasks_from_a_variable(tmp_path: Path) -> None:
    _, started, _ = run_on_nodes(
        """\
#SBATCH -N 2 --ntasks-per-node=2
GPUS_PER_NODE=2
srun -n $((SLURM_NNODES * GPUS_PER_NODE)) python train.py
""",
        tmp_path,
    )
    assert sorted(int(s.procid) for s in started) == [0, 1, 2, 3]
    assert sorted(s.node for s in started) == [0, 0, 1, 1]


def test_c_an_explicit_loop_over_the_nodes(tmp_path: Path) -> None:
    _, started, _ = run_on_nodes(
        """\
#SBATCH -N 3
for i in $(seq 0 $((SLURM_NNODES - 1))); do
    srun -N1 -n1 -r $i python worker.py --index $i &
done
wait
""",
        tmp_path,
    )
    assert sorted((s.node, s.args) for s in started) == [
        (0, "worker.py --index 0"),
        (1, "worker.py --index 1"),
        (2, "worker.py --index 2"),
    ]


def test_c_a_loop_over_host_names(tmp_path: Path) -> None:
    _, started, _ = run_on_nodes(
        """\
#SBATCH -N 2
rank=0
for host in $(scontrol show hostnames); do
    srun -N1 -n1 -w $host python worker.py --rank $rank &
    rank=$((rank + 1))
done
wait
""",
        tmp_path,
    )
    assert sorted((s.node, s.args) for s in started) == [
        (0, "worker.py --rank 0"),
        (1, "worker.py --rank 1"),
    ]


def test_d_deepspeed_with_a_hostfile_runs_on_the_head_node(tmp_path: Path) -> None:
    c, started, _ = run_on_nodes(
        """\
#SBATCH -N 2 --gpus-per-node=8
scontrol show hostnames $SLURM_JOB_NODELIST | sed 's/$/ slots=8/' > hostfile
deepspeed --hostfile hostfile train.py
""",
        tmp_path,
    )
    assert [(s.program, s.node) for s in started] == [("deepspeed", 0)]
    hostfile = (tmp_path / "node0" / "sky_workdir" / "hostfile").read_text()
    assert hostfile == "10.0.0.1 slots=8\n10.0.0.2 slots=8\n"
    assert notes(c, "head-only")


def test_e_ray_head_and_workers(tmp_path: Path) -> None:
    c, started, _ = run_on_nodes(
        """\
#SBATCH --nodes=3 --tasks-per-node=1 -c 8
nodes=$(scontrol show hostnames "$SLURM_JOB_NODELIST")
nodes_array=($nodes)
head_node=${nodes_array[0]}
head_node_ip=$(srun --nodes=1 --ntasks=1 -w "$head_node" hostname --ip-address)
port=6379
ip_head=$head_node_ip:$port
export ip_head
srun --nodes=1 --ntasks=1 -w "$head_node" \\
    ray start --head --node-ip-address="$head_node_ip" --port=$port \\
    --num-cpus "${SLURM_CPUS_PER_TASK}" --block &
sleep 1
worker_num=$((SLURM_JOB_NUM_NODES - 1))
for ((i = 1; i <= worker_num; i++)); do
    node_i=${nodes_array[$i]}
    srun --nodes=1 --ntasks=1 -w "$node_i" \\
        ray start --address "$ip_head" --num-cpus "${SLURM_CPUS_PER_TASK}" --block &
done
python -u driver.py
""",
        tmp_path,
    )
    rays = sorted((s.node, s.args) for s in started if s.program == "ray")
    assert rays == [
        (0, "start --head --node-ip-address=10.0.0.1 --port=6379 --num-cpus 8"),
        (1, "start --address 10.0.0.1:6379 --num-cpus 8"),
        (2, "start --address 10.0.0.1:6379 --num-cpus 8"),
    ]
    assert [(s.program, s.node) for s in started if s.program == "python"] == [("python", 0)]
    assert notes(c, "ray")


def test_f_world_size_computed_in_the_batch_shell(tmp_path: Path) -> None:
    _, started, _ = run_on_nodes(
        """\
#SBATCH -N 2 --ntasks-per-node=1 --gpus-per-node=4
GPUS_PER_NODE=4
export WORLD_SIZE=$((SLURM_NNODES * GPUS_PER_NODE))
export MASTER_ADDR=$(hostname)
srun accelerate launch --num_machines $SLURM_NNODES --main_process_ip $MASTER_ADDR train.py
""",
        tmp_path,
    )
    assert len(started) == 2
    assert {s.env["WORLD_SIZE"] for s in started} == {"8"}
    assert {s.args for s in started} == {
        "launch --num_machines 2 --main_process_ip 10.0.0.1 train.py"
    }


def test_mpi_steps_run_mpirun_on_the_head_node(tmp_path: Path) -> None:
    c, started, _ = run_on_nodes(
        """\
#SBATCH -N 2 --ntasks-per-node=16
module load openmpi
srun --mpi=pmix lmp -in in.lj
mpirun -np 32 lmp -in in.post
""",
        tmp_path,
    )
    assert [(s.program, s.node, s.args) for s in started] == [
        ("mpirun", 0, "-np 32 lmp -in in.lj"),
        ("mpirun", 0, "-np 32 lmp -in in.post"),
    ]
    # named by the task (a home may be shared), written by the head node only
    hostfile = tmp_path / "node0" / ".slurm2sky_hostfile.sky-managed-2026-01-01_job_7-0"
    assert hostfile.read_text() == "10.0.0.1 slots=16\n10.0.0.2 slots=16\n"
    assert not list((tmp_path / "node1").glob(".slurm2sky_hostfile*"))
    assert "export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1\n" in c.task["run"]
    # run sets SLURM_JOBID and others: mpirun must not take them for a Slurm allocation
    assert "export OMPI_MCA_plm=^slurm OMPI_MCA_ras=^slurm PRTE_MCA_plm=^slurm" in c.task["run"]
    # Open MPI over SSH: not the whole environment
    assert all("named with -x" in note.message for note in notes(c, "mpi"))


def test_single_node_scripts_run_as_they_are(tmp_path: Path) -> None:
    c, started, _ = run_on_nodes(
        """\
#SBATCH -c 4
set -e
echo start
srun -n 2 python part.py
python final.py
""",
        tmp_path,
    )
    # the batch shell is task 0 of the batch step: SLURM_PROCID is 0 there (sbatch-spec §8)
    assert [(s.program, s.procid) for s in started] in (
        [("python", "0"), ("python", "1"), ("python", "0")],
        [("python", "1"), ("python", "0"), ("python", "0")],
    )
    assert 'SKYPILOT_NODE_RANK:-0}" = 0' not in c.task["run"]  # one node: no guard


def test_a_step_exit_code_is_its_highest_task_code(tmp_path: Path) -> None:
    c = conv("#SBATCH -n 3\nsrun bash -c 'exit $SLURM_PROCID'\necho rc=$?\n")
    _, done = simulate(c.task["run"], tmp_path=tmp_path)
    assert done[0].stdout.strip() == "rc=2"


def test_values_each_node_computes_are_noted() -> None:
    c = conv(
        "#SBATCH -N 2\n"
        "export MASTER_PORT=$(python -c 'import socket; s=socket.socket(); print(s)')\n"
        "srun python train.py\n"
    )
    (note,) = notes(c, "per-node-value")
    assert note.loses_meaning and "MASTER_PORT" in note.message


# -- environment creation, setup and run --------------------------------------------------


def _stub(tmp_path: Path, name: str, script: str) -> None:
    """A program of the simulated nodes (see simulate: bin is on their PATH)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / name).write_text("#!/bin/bash\n" + script)
    (bin_dir / name).chmod(0o755)


def setup_then_run(c, tmp_path: Path, **kw: object):
    """SkyPilot's order on each node: setup, then run (both in ~/sky_workdir)."""
    nodes = c.task.get("num_nodes", 1)
    results = []
    for field in ("setup", "run"):
        if c.task.get(field):
            _, done = simulate(c.task[field], nodes, tmp_path=tmp_path, **kw)
            results.append(done)
    return results


def test_creation_after_commands_that_prepare_its_files_stays_in_run(tmp_path: Path) -> None:
    """Setup runs before run: creation that needs what earlier work made stays in run."""
    _stub(tmp_path, "git", 'mkdir -p "${2##*/}" && touch "${2##*/}/setup.py"\n')
    _stub(tmp_path, "wget", "echo numpy > requirements.txt\n")
    _stub(
        tmp_path,
        "pip",
        '[ "$2" = -e ] && { [ -f setup.py ] || exit 3; }\n'
        '[ "$2" = -r ] && { [ -f "$3" ] || exit 4; }\n'
        'echo "pip $*" >> "$HOME/pip.log"\n',
    )
    _stub(
        tmp_path,
        "python",
        '[ "$1 $2" = "-m venv" ] && mkdir -p "$3/bin" && echo : > "$3/bin/activate"\n'
        'echo "python $*" >> "$HOME/python.log"\n',
    )
    c = conv(
        "#SBATCH -N 1\nset -e\n"
        "git clone https://example.org/y\n"  # line 4
        "cd y\n"
        "python -m venv .venv\n"  # line 6
        "source .venv/bin/activate\n"
        "pip install -e .\n"
        "wget https://example.org/requirements.txt\n"
        "pip install -r requirements.txt\n"
        "python train.py\n"
    )
    assert "setup" not in c.task  # nothing can go before git clone
    (note,) = notes(c, "setup")
    assert note.line == 6 and "stays in run" in note.message and "line 4" in note.message
    for done in setup_then_run(c, tmp_path, programs=()):
        assert [p.returncode for p in done] == [0], done[0].stderr
    assert (tmp_path / "node0" / "pip.log").read_text() == (
        "pip install -e .\npip install -r requirements.txt\n"
    )


def test_creation_moves_to_setup_past_commands_that_change_nothing(tmp_path: Path) -> None:
    c = conv(
        "#SBATCH -N 2\n"
        "export X=1\n"
        'echo "start $(date)"\n'
        "nvidia-smi\n"
        "mkdir -p envs\n"
        "cd envs\n"
        "python -m venv v\n"  # line 8
        "source v/bin/activate\n"
        "pip install torch\n"
        "cp -r /data/x .\n"  # line 11: from here on, creation stays in run
        "pip install -r x/requirements.txt\n"  # line 12
        "python train.py\n"
    )
    assert c.task["setup"] == (
        "export X=1\nmkdir -p envs\ncd envs\npython -m venv v\nsource v/bin/activate\n"
        "pip install torch\n"
    )
    moved, kept = notes(c, "setup")
    assert moved.line == 8 and "moves to setup" in moved.message
    assert kept.line == 12 and "line 11" in kept.message and "on every node" in kept.message
    assert "pip install -r x/requirements.txt" in c.task["run"]


def test_an_assignment_with_side_effects_keeps_creation_in_run() -> None:
    c = conv(
        "#SBATCH -N 1\nRUN=$(curl -s -X POST https://example.org/runs)\n"
        "python -m venv env_$RUN\nsource env_$RUN/bin/activate\npython x.py\n"
    )
    assert "setup" not in c.task
    assert "python -m venv env_$RUN" in c.task["run"]


# -- job steps ------------------------------------------------------------------------------


def test_a_one_task_per_node_step_gets_its_own_task_variables(tmp_path: Path) -> None:
    """sbatch-spec §9: a step's tasks count from 0, and SLURM_NTASKS is the step's."""
    _, started, _ = run_on_nodes(
        "#SBATCH -N 3 --ntasks-per-node=4\n"
        "srun -N 3 -n 3 bash -c "
        "'torchrun --node_rank=$SLURM_PROCID --nnodes=$SLURM_NTASKS train.py'\n",
        tmp_path,
    )
    assert sorted((s.node, s.args) for s in started) == [
        (0, "--node_rank=0 --nnodes=3 train.py"),
        (1, "--node_rank=1 --nnodes=3 train.py"),
        (2, "--node_rank=2 --nnodes=3 train.py"),
    ]


def test_a_function_that_starts_a_step_is_a_step_where_it_is_called(tmp_path: Path) -> None:
    _, started, _ = run_on_nodes(
        '#SBATCH -N 2\nlaunch() {\n  srun torchrun --nnodes 2 "$1"\n}\nlaunch cfg1.yaml\n',
        tmp_path,
    )
    assert sorted((s.node, s.args) for s in started) == [
        (0, "--nnodes 2 cfg1.yaml"),
        (1, "--nnodes 2 cfg1.yaml"),
    ]


def test_steps_launched_per_node_by_a_function_with_options_in_an_array(tmp_path: Path) -> None:
    """Corpus 01562: srun options in an array, a function that runs srun -w $NODE."""
    c, started, _ = run_on_nodes(
        """\
#SBATCH --nodes=2 --ntasks-per-node=1
: "${IMAGE:=nvcr.io#nvidia/pytorch:24.01-py3}"
declare -a ARGS=(
    --container-image $IMAGE
    --container-mounts /fsx:/fsx
)
NODES=( $( scontrol show hostnames $SLURM_JOB_NODELIST ) )
srun -l "${ARGS[@]}" python -c "print(1)"
function run_compose() {
    srun --nodelist=${NODE} --ntasks=1 -l "${ARGS[@]}" composer \\
        --node_rank ${NODE_RANK}
}
for (( NODE_RANK=1; NODE_RANK<2; NODE_RANK++ ))
do
    NODE=${NODES[$NODE_RANK]}
    run_compose &
done
NODE_RANK=0
NODE=${NODES[0]}
run_compose
wait
""",
        tmp_path,
        programs=("python", "composer"),
    )
    assert sorted((s.program, s.node, s.args) for s in started) == [
        ("composer", 0, "--node_rank 0"),
        ("composer", 1, "--node_rank 1"),
        ("python", 0, "-c print(1)"),
        ("python", 1, "-c print(1)"),
    ]
    assert not notes(c, "not-converted")


@pytest.mark.parametrize(
    "lines",
    [
        ['SRUN="srun --mpi=pmi2"', "$SRUN ./namd2 in.namd"],
        ['SRUN="srun --mpi=pmi2"', "${SRUN} ./namd2 in.namd > out.log"],
        ["if true; then", '  SRUN="srun --mpi=pmi2"', "fi", "${SRUN} ./namd2 in.namd"],
        ['OPTS="--mpi=pmi2 -n 8"', "srun $OPTS ./namd2 in.namd"],
    ],
)
def test_srun_in_a_variable_is_read_with_the_variable_value(
    lines: list[str], tmp_path: Path
) -> None:
    """Corpus 00136, 00138, 00257: srun and its options in variables."""
    c, started, _ = run_on_nodes(
        "#SBATCH -N 2 --ntasks-per-node=4\n" + "\n".join(lines) + "\n", tmp_path
    )
    assert [(s.program, s.node, s.args) for s in started] == [
        ("mpirun", 0, "-np 8 ./namd2 in.namd")
    ]
    assert notes(c, "mpi") and not notes(c, "not-converted")


@pytest.mark.parametrize(
    ("lines", "line"),
    [
        (['if [ "$A" ]; then SRUN="srun -N 1"; else SRUN="srun -N 2"; fi', "$SRUN prog"], 4),
        (["source site.sh", 'srun -l "${ARGS[@]}" prog'], 4),
        (["srun $SRUN_ARGS prog"], 3),
        (["x=$(srun hostname | sort)", 'echo "$x"'], 3),
        (["y=`srun hostname`"], 3),
        (["bash -c 'srun prog'"], 3),
    ],
)
def test_srun_the_converter_cannot_read_is_noted_and_srun_is_defined(
    lines: list[str], line: int, tmp_path: Path
) -> None:
    c = conv("#SBATCH -N 2\n" + "\n".join(lines) + "\n")
    (note,) = notes(c, "not-converted")
    assert note.line == line and note.loses_meaning
    run = c.task["run"]
    assert "\nsrun() {" in "\n" + run or not re.search(r"\bsrun\b", run)
    _, done = simulate(c.task["run"], 2, tmp_path=tmp_path, env={"A": "1"})
    assert all("srun: command not found" not in p.stderr for p in done)


def test_a_substituted_step_is_read_like_any_other(tmp_path: Path) -> None:
    c = conv("#SBATCH -n 3\nx=$(srun -n 2 bash -c 'echo $SLURM_PROCID' | sort)\necho $x\n")
    _, done = simulate(c.task["run"], tmp_path=tmp_path)
    assert done[0].stdout == "0 1\n"
    assert not notes(c, "not-converted")  # one node: the substitution sees every task


def test_a_step_on_named_hosts_runs_on_the_first_nodes(tmp_path: Path) -> None:
    c, started, _ = run_on_nodes(
        "#SBATCH -N 3\nsrun --nodelist=node01 -n 1 python g.py\n"
        "srun -w node[02-03] --ntasks-per-node=1 python h.py\n",
        tmp_path,
    )
    assert sorted((s.node, s.args) for s in started) == [(0, "g.py"), (0, "h.py"), (1, "h.py")]
    first, second = notes(c, "approximation")
    assert first.loses_meaning and "first node" in first.message
    assert "first 2 nodes" in second.message


def test_a_literal_hostlist_is_expanded(tmp_path: Path) -> None:
    c, _, done = run_on_nodes(
        '#SBATCH -N 2\nH=$(scontrol show hostnames "node[01-03],gpu7")\necho $H\n', tmp_path
    )
    assert done[0].stdout == "node01 node02 node03 gpu7\n"
    (note,) = [n for n in notes(c, "rewritten") if "node[01-03]" in n.message]
    assert note.loses_meaning and "SKYPILOT_NODE_IPS" in note.message


# -- every node, head node ------------------------------------------------------------------


def test_dot_and_default_assignments_run_on_every_node(tmp_path: Path) -> None:
    for rank in range(2):
        workdir = tmp_path / f"node{rank}" / "sky_workdir"
        workdir.mkdir(parents=True)
        (workdir / "env.sh").write_text("export FOO=bar\n")
    _, started, _ = run_on_nodes(
        '#SBATCH -N 2\n. ./env.sh\n: "${IMAGE:=default}"\nsrun python "$FOO" "$IMAGE"\n',
        tmp_path,
    )
    assert sorted((s.node, s.args) for s in started) == [(0, "bar default"), (1, "bar default")]


def test_random_agrees_across_nodes_after_head_only_draws(tmp_path: Path) -> None:
    c, started, _ = run_on_nodes(
        "#SBATCH -N 3\n"
        'echo "tag $RANDOM $RANDOM"\n'
        "export MASTER_PORT=$((10000 + RANDOM % 20000))\n"
        "srun python train.py --port $MASTER_PORT\n",
        tmp_path,
    )
    assert len(started) == 3 and len({s.args for s in started}) == 1
    (note,) = [n for n in notes(c, "approximation") if "$RANDOM" in n.message]
    assert "seeded again" in note.message


def test_blank_lines_in_heredocs_and_quotes_are_kept(tmp_path: Path) -> None:
    text = "a\n\n\n\nb"
    c, _, done = run_on_nodes(
        f"#SBATCH -N 2\ncat > cfg <<EOF\n{text}\nEOF\n\n\n\n"
        f'echo "{text}"\nmodule load gcc\n\n\n\nsrun python x.py\n',
        tmp_path,
    )
    assert (tmp_path / "node0" / "sky_workdir" / "cfg").read_text() == text + "\n"
    assert done[0].stdout == text + "\n"
    assert "\n\n\n" not in c.task["run"].replace(text, "")  # elsewhere, one blank line at most


@pytest.mark.parametrize("nodes", [1, 2])
def test_an_unterminated_heredoc_is_closed_before_what_run_adds(nodes: int, tmp_path: Path) -> None:
    _, _, done = run_on_nodes(
        f"#SBATCH -N {nodes}\nsrun python x.py\ncat > notes.txt <<EOF\nline 1\n\nline 3\n",
        tmp_path,
    )
    assert (tmp_path / "node0" / "sky_workdir" / "notes.txt").read_text() == "line 1\n\nline 3\n"
    assert all("warning" not in p.stderr for p in done)


# -- notes ----------------------------------------------------------------------------------


def test_assignments_that_run_a_command_on_every_node_are_noted() -> None:
    c = conv(
        "#SBATCH -N 2\n"
        "RESULT=$(python preprocess.py --download)\n"  # line 3
        "export RUN_ID=$(curl -s -X POST https://example.org/runs)\n"
        "STAMP=$(date +%s)\n"
        "OUT=`python make_outdir.py`\n"
        "NAME=$(basename $PWD)\n"  # pure: no note
        "K=$(echo $NAME | tr a-z A-Z | cut -c1-3)\n"
        "CONDA=$(conda info --base)\n"
        "head=$(scontrol show hostnames | head -n 1)\n"
        'date > started.txt; LOG="$(pwd)/log"\n'  # head-only statement: no note
        "f() { local t=$(date); }\n"  # a function body: no note
        "srun python train.py\n"
    )
    found = notes(c, "per-node-value")
    assert [(n.line, n.message.split("=")[0]) for n in found] == [
        (3, "RESULT"),
        (4, "RUN_ID"),
        (5, "STAMP"),
        (6, "OUT"),
    ]
    assert all(n.loses_meaning and "every node" in n.message for n in found)
    assert "$(python preprocess.py --download)" in found[0].message


@pytest.mark.parametrize(
    ("line", "use"),
    [
        ('python train.py --cfg $1 "$@"', "$1"),
        ('for a in "$@"; do echo $a; done', "$@"),
        ('[ $# -gt 0 ] && echo "${1:-none}"', "$#"),
        ("echo ${2}", "${2}"),
    ],
)
def test_the_script_arguments_are_noted(line: str, use: str) -> None:
    c = conv(f"#SBATCH -N 1\nmodule load x\n{line}\n")
    (note,) = [n for n in notes(c, "not-converted") if "arguments" in n.message]
    assert note.line == 4 and note.loses_meaning and f"({use})" in note.message
    assert "envs" in note.message


@pytest.mark.parametrize(
    "line",
    [
        "awk '{print $1}' data.txt",
        'awk "{print \\$1}" data.txt',
        "x=\"$(awk '{print $2}' f)\"",
        "# usage: job.sh $1",
        "n=${#ARRAY[@]}",
        'f() { echo "$1"; }',
        "echo $0 $$",
    ],
)
def test_what_is_not_a_script_argument_is_not_noted(line: str) -> None:
    c = conv(f"#SBATCH -N 1\n{line}\n")
    assert not [n for n in notes(c, "not-converted") if "arguments" in n.message]


def test_the_node_local_scratch_is_not_called_a_shared_file_system() -> None:
    c = conv("#SBATCH -N 1\ncp data $SLURM_TMPDIR/\ncd /scratch/me\nsource /cvmfs/x/setup.sh\n")
    local, shared, software = notes(c, "cluster-path")
    assert local.line == 3 and "local disk" in local.message and "shared" not in local.message
    assert shared.line == 4 and "shared file systems (/scratch" in shared.message
    assert software.line == 5 and "software installed on the cluster" in software.message


@pytest.mark.parametrize(
    ("lines", "warned"),
    [
        (["conda activate finalProject", "pip install tqdm"], True),  # corpus 00252
        (["source .venv/bin/activate", "pip install -r req.txt"], True),
        (["python -m venv .venv", "source .venv/bin/activate"], False),
        (["conda env create -f env.yml", "conda activate proj"], False),
        (["conda activate base"], False),
    ],
)
def test_activating_an_environment_the_script_never_creates_is_a_warning(
    lines: list[str], warned: bool
) -> None:
    c = conv("#SBATCH -N 1\n" + "\n".join(lines) + "\npython x.py\n")
    assert bool(notes(c, "environment")) == warned


@pytest.mark.parametrize(
    "line",
    [
        "check_status $? 'srun'",
        'export LAUNCHER="srun"',
        "if command -v srun; then echo yes; fi",
        'SRUN_PATH="$(which srun)"',
        '[ "$MPI" = srun ] && echo slurm',
        'echo "running srun now"',
        "killall srun",
    ],
)
def test_the_word_srun_that_runs_nothing_is_not_noted(line: str) -> None:
    c = conv(f"#SBATCH -N 2\n{line}\nsrun python x.py\n")
    assert not notes(c, "not-converted")


@needs_corpus
def test_run_defines_srun_wherever_it_keeps_a_step_that_runs_srun() -> None:
    """Over the dev corpus: a command of run that runs srun (after wrappers such as
    nohup or time, also inside command substitutions) is always backed by run's srun
    function."""
    from slurm2sky._shell import WRAPPER_WORDS, scan

    for name, text in corpus():
        c = convert(parse_script(text, path=name))
        run = c.task.get("run", "")
        if "srun" not in run or "\nsrun() {" in "\n" + run:
            continue
        for statement in scan(run, guide=True):
            for command in statement.commands():
                words = [w for w, _, _ in command.words[command.name_index() :]]
                while len(words) > 1 and words[0].rsplit("/", 1)[-1] in WRAPPER_WORDS:
                    words = words[1:]
                assert not words or words[0].rsplit("/", 1)[-1] != "srun", (name, words)
