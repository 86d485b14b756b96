"""Built-in steps; importing this package registers them by type name."""

from pipelines.steps.clues import DraftCluesStep
from pipelines.steps.decline import DeclineStep
from pipelines.steps.fuse import FuseStep
from pipelines.steps.generate import GenerateStep
from pipelines.steps.group import GroupStep
from pipelines.steps.iterate import IterateStep
from pipelines.steps.rerank import RerankStep
from pipelines.steps.retrieve import RetrieveStep
from pipelines.steps.speaker import SpeakerStep
from pipelines.steps.turn_context import TurnContextStep

__all__ = [
    "DeclineStep",
    "DraftCluesStep",
    "FuseStep",
    "GenerateStep",
    "GroupStep",
    "IterateStep",
    "RerankStep",
    "RetrieveStep",
    "SpeakerStep",
    "TurnContextStep",
]
