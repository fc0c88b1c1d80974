"""The `air.model` stage: the airflow operating point, as JSON facts and a PNG plot."""

from __future__ import annotations

import json

from rackplane.airflow import operating_point, plot
from rackplane.stages import StageInput, stage


@stage("air.model", title="airflow operating point", out_subdir="airflow",
       design_keys=("rack.", "node.", "slots.", "cooling."))
def air_model(inp: StageInput) -> dict:
    result = operating_point(inp.design, inp.layout)
    facts = result.to_dict()
    (inp.workdir / "airflow.json").write_text(json.dumps(facts, indent=1, sort_keys=True) + "\n")
    plot(result, inp.workdir / "airflow.png")
    return facts
