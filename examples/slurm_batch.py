"""Batch analysis of a study on a SLURM cluster, through dask-jobqueue (pip install 'emotiondesk[jobqueue]').

Run it on the login node, in the environment the compute nodes also use (a shared virtualenv or conda env):

    python examples/slurm_batch.py /shared/study --out /shared/results --nodes 4 --partition cpu --account mylab
    python examples/slurm_batch.py /shared/study --out /shared/results --print-job-script   # what sbatch gets
    python examples/slurm_batch.py /shared/study --out /shared/results --stand-in           # a LocalCluster here

Each SLURM job is one node with `--cores` cores running cores ÷ 1.5 one-thread worker processes (one `analyze`
keeps about 1.5 cores busy). The scheduler runs in this process; the batch is `emotiondesk analyze … --dask
ADDRESS` (`run_batch(dask=…)`): resumable (run the same command again after a stop), one index, every result
identical to a local run. The inputs and the output folder must be on a filesystem the nodes share, at the same
paths. `--stand-in` replaces SLURM by a LocalCluster on 127.0.0.1 and runs everything else exactly the same.
Ctrl+C or SLURM's SIGTERM stop the batch cleanly (exit 128 + the signal); the index is up to date.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path


def slurm_cluster(args: argparse.Namespace, host: str | None = None):
    """A dask-jobqueue SLURMCluster: one job per node, one-thread worker processes, dashboard on loopback only."""
    from dask_jobqueue import SLURMCluster

    workers = max(1, math.floor(args.cores / 1.5))
    scheduler_options = {"dashboard_address": "127.0.0.1:8787"}  # reach it with ssh -L 8787:127.0.0.1:8787 login
    if host is not None:
        scheduler_options["host"] = host
    return SLURMCluster(
        cores=args.cores,  # sbatch --cpus-per-task
        processes=workers,  # worker processes per job, each with cores // processes = 1 thread
        memory=args.memory,
        walltime=args.walltime,
        queue=args.partition,
        account=args.account,
        interface=args.interface,
        job_script_prologue=[
            "export ORT_DISABLE_TELEMETRY=1",  # emotiondesk sets it too; here it holds for everything the job runs
            "export OMP_NUM_THREADS=1",
        ],
        worker_extra_args=["--no-dashboard"],
        python=sys.executable,  # the same environment (and emotiondesk version) as this client
        scheduler_options=scheduler_options,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", help="videos, images or folders, as for emotiondesk analyze")
    parser.add_argument("--out", type=Path, required=True, help="results folder (shared with the nodes)")
    parser.add_argument("--model", help="emotion model (bundled name or .onnx path on the shared filesystem)")
    parser.add_argument("--nodes", type=int, default=2, help="SLURM jobs (one node each)")
    parser.add_argument("--cores", type=int, default=16, help="cores per node")
    parser.add_argument("--memory", default="16GB", help="memory per node (about 200 MB per worker is used)")
    parser.add_argument("--walltime", default="04:00:00")
    parser.add_argument("--partition", help="SLURM partition (queue)")
    parser.add_argument("--account", help="SLURM account")
    parser.add_argument("--interface", help="network interface the nodes reach this host on (e.g. ib0)")
    parser.add_argument("--print-job-script", action="store_true", help="print the job script and stop")
    parser.add_argument("--stand-in", action="store_true", help="a LocalCluster of 2 workers instead of SLURM")
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    from emotiondesk.errors import EmotionDeskError
    from emotiondesk.pipeline import PipelineConfig
    from emotiondesk.runs.batch import run_batch

    if args.print_job_script:
        with slurm_cluster(args, host="127.0.0.1") as cluster:  # no job is submitted
            print(cluster.job_script())
        return 0
    if args.stand_in:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None)
    else:
        cluster = slurm_cluster(args)
        cluster.scale(jobs=args.nodes)
    with cluster, Client(cluster) as client:
        print(f"scheduler {cluster.scheduler_address}; waiting for the first worker…", file=sys.stderr)
        client.wait_for_workers(1, timeout=3600)
        try:
            report = run_batch(args.inputs, args.out, PipelineConfig(model=args.model), dask=cluster.scheduler_address)
        except EmotionDeskError as error:
            print(f"emotiondesk: error: {error}", file=sys.stderr)
            return 2
    print(report.text())
    for row in report.rows:
        if row.status == "failed":
            print(f"emotiondesk: error: {row.path}: {row.reason}", file=sys.stderr)
    if report.interrupted:
        return 128 + (report.signum or 2)
    return 2 if report.count("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
