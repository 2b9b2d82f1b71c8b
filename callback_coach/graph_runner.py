"""Rasa's prediction graph run in plain order instead of through dask.

Each message runs the graph three times (understanding, then one prediction per action),
and Rasa's DaskGraphRunner rebuilds the minimal graph and a dask task graph every time,
then has dask's local scheduler walk it: about 5 % of a turn for a graph of a dozen
nodes, one after the other in a single thread anyway. This runner works out the nodes
each set of targets needs and their order once, then calls them in that order with the
same inputs, so each node receives exactly what dask would have given it.
"""

from __future__ import annotations

from graphlib import TopologicalSorter
from typing import Any

import rasa.core.processor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner

ORIGINAL_RUNNER = rasa.core.processor.DaskGraphRunner


class SequentialGraphRunner(DaskGraphRunner):
    _plans: dict[tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]]

    def _plan(self, targets: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The nodes the targets need, in an order that runs each after what it needs."""
        plans = self.__dict__.setdefault("_plans", {})
        if targets not in plans:
            schema = self._graph_schema.minimal_graph_schema(list(targets))
            graph = {
                name: set(node.needs.values()) & set(schema.nodes)
                for name, node in schema.nodes.items()
            }
            plans[targets] = tuple(
                (name, tuple(schema.nodes[name].needs.values()))
                for name in TopologicalSorter(graph).static_order()
            )
        return plans[targets]

    def run(
        self, inputs: dict[str, Any] | None = None, targets: list[str] | None = None
    ) -> dict[str, Any]:
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        plan = self._plan(run_targets)
        values: dict[str, Any] = {}
        for input_name, input_value in (inputs or {}).items():
            if isinstance(input_value, str) and any(input_value == name for name, _ in plan):
                raise GraphRunError(
                    f"Input value '{input_value}' clashes with a node name. Make sure "
                    f"that none of the input names passed to the `run` method are the "
                    f"same as node names in the graph schema."
                )
            values[input_name] = (input_name, input_value)
        try:
            for name, needs in plan:
                # as in dask, a need that names nothing in the graph is passed as it is
                values[name] = self._instantiated_nodes[name](
                    *(values.get(need, need) for need in needs)
                )
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
        return dict(values[target] for target in run_targets)


def install() -> None:
    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner
