"""Question sets with gold passage ids: MuSiQue, HotpotQA, 2Wiki, QMSum, LoCoMo, users' JSONL."""

from eval.datasets.loader import load_dataset
from eval.datasets.model import Dataset, QAItem

__all__ = ["Dataset", "QAItem", "load_dataset"]
