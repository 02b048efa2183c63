"""Variable references in an action's configuration, resolved as CodePipeline resolves
them when the action begins: ``#{variables.NAME}`` (a pipeline variable) and
``#{namespace.NAME}`` (an output variable of an earlier action declared with that
namespace). A reference to nothing known is left as written."""

from __future__ import annotations

import re

from pipeline_scripts.emulation.codepipeline_model import Pipeline, PipelineExecution

_REFERENCE = re.compile(r"#\{([A-Za-z0-9@_-]+)\.([A-Za-z0-9@_-]+)\}")


def resolve_references(text: str, execution: PipelineExecution, pipeline: Pipeline) -> str:
    """``text`` with the references it makes in ``execution`` of ``pipeline`` resolved."""

    def replace(match: re.Match[str]) -> str:
        namespace, name = match.groups()
        if namespace == "variables":
            return execution.variables.get(name, match.group(0))
        for stage in execution.stages.values():
            for action in stage.actions.values():
                declared = pipeline.action(stage.stage_name, action.action_name) or {}
                if declared.get("namespace") == namespace:
                    return action.output_variables.get(name, match.group(0))
        return match.group(0)

    return _REFERENCE.sub(replace, text)
