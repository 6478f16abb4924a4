"""The WorkflowPlugin (``chancy.workflow_plugin``): DAGs of jobs with dependencies.

::

    from chancy.plugins.workflow import Workflow, WorkflowPlugin

    workflow = (
        Workflow("nightly")
        .add("extract", extract_job)
        .add_group([("clean", clean_job), ("index", index_job)], dependencies=["extract"])
        .add("report", report_job, dependencies=["clean", "index"])
    )
    workflow_id = await WorkflowPlugin.push(chancy, workflow)
    done = await WorkflowPlugin.wait_for_workflow(chancy, workflow_id, timeout=60)
"""

from __future__ import annotations

from chancy.plugins.workflow.model import (
    CircularDependencyError,
    EmptyWorkflowError,
    InvalidDependencyError,
    Workflow,
    WorkflowError,
    WorkflowStep,
    generate_dot,
)
from chancy.plugins.workflow.plugin import WorkflowPlugin
from chancy.plugins.workflow.sequence import Sequence

__all__ = [
    "CircularDependencyError",
    "EmptyWorkflowError",
    "InvalidDependencyError",
    "Sequence",
    "Workflow",
    "WorkflowError",
    "WorkflowPlugin",
    "WorkflowStep",
    "generate_dot",
]
