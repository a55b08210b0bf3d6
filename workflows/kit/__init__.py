"""The process kit: what every process with people in it is written on.

    from workflows.kit import AnswerField, Process, TaskSpec, process
    from workflows.kit.params import param

See workflows/processes/layout_revision.py for a whole process in one file, and the
README's "Adding a process".
"""

from workflows.activities.types import AnswerField
from workflows.kit.deadline import DeadlineWatch
from workflows.kit.process import Process, ProcessState
from workflows.kit.registry import process
from workflows.kit.review import Review, ReviewRound, TaskText
from workflows.kit.tasks import AnswerRecord, OpenTask, TaskSpec, refuse

__all__ = [
    "AnswerField",
    "AnswerRecord",
    "DeadlineWatch",
    "OpenTask",
    "Process",
    "ProcessState",
    "Review",
    "ReviewRound",
    "TaskSpec",
    "TaskText",
    "process",
    "refuse",
]
