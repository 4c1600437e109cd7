"""The multi-node launcher patterns of real scripts (sbatch-in-the-wild S4), converted and
then run as SkyPilot runs ``run``: once per node, all nodes at once. Each test checks what
was started where, with which ranks and addresses."""

from __future__ import annotations

from pathlib import Path

import pytest
from convert_helpers import BASH, conv, notes, simulate
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


def test_a_node_rank_from_slurm_procid_inside_srun(tmp_path: Path) -> None:
    _, started, _ = run_on_nodes(
        """\
#SBATCH -N 2 --ntasks-per-node=1
srun bash -c 'torchrun --nnodes 2 --node_rank $SLURM_PROCID --master_addr x train.py'
""",
        tmp_path,
    )
    assert sorted(s.args.split()[3] for s in started) == ["0", "1"]


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
    hostfile = (tmp_path / "node0" / ".slurm2sky_hostfile").read_text()
    assert hostfile == "10.0.0.1 slots=16\n10.0.0.2 slots=16\n"
    assert notes(c, "mpi")


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
    assert [(s.program, s.procid) for s in started] in (
        [("python", "0"), ("python", "1"), ("python", "")],
        [("python", "1"), ("python", "0"), ("python", "")],
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
