"""Checks of the training-at-scale keys that involve several tables, each reported with its TOML path."""

from __future__ import annotations

from sim.config.schema import Scenario


def training_scale_problems(scenario: Scenario, where: str) -> list[str]:
    from sim.config.schema import NetworkSection
    from sim.facility.network import design_fabric
    from sim.physics.collectives import group_placement
    from sim.workloads.training import predict_shape

    problems: list[str] = []
    node = scenario.cluster.node_spec()
    node_count = scenario.cluster.node_count
    gpn = node.gpus_per_node
    try:
        design = design_fabric(scenario.network or NetworkSection(enabled=False), node, node_count)
    except ValueError as exc:
        problems.append(f"{where}: network: {exc}")
        design = None
    for i, job in enumerate(scenario.jobs):
        spares = job.failures.spare_nodes if job.failures is not None else 0
        needed = -(-job.gpus // gpn) + spares
        if spares and needed > node_count:
            problems.append(
                f"{where}: jobs.{i}.failures.spare_nodes = {spares}: the job's {needed - spares} nodes plus its "
                f"spares exceed the cluster's {node_count} nodes"
            )
        if job.mode != "predict":
            continue
        try:
            shape = predict_shape(job, gpn)
            layout = shape.layout
            group_placement(layout.data, layout.tensor * layout.pipeline, gpn)
            group_placement(layout.tensor, 1, gpn)
            if layout.pipeline > 1:
                group_placement(layout.pipeline, layout.tensor, gpn)
        except ValueError as exc:
            problems.append(f"{where}: jobs.{i}.parallel: {exc}")
        if design is not None and design.intra_node_link is None:
            problems.append(
                f"{where}: network.intra_node_link: no NVLink generation is known for accelerator "
                f"{node.gpu.key!r}; give the link of jobs.{i} (mode = 'predict') explicitly"
            )
    return problems
