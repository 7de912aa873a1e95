"""Embedded training tasks for comparisons and the finder, and the :class:`Task` contract.

``get_task("digits")`` / ``get_task("charlm")`` need no download (data from installed
packages); ``load_entry("module:function")`` loads a user's task. Importing this package does
not import torch.
"""

from lrkit.tasks.base import Task, describe_tasks, get_task, load_entry, resolve_task, task_names

__all__ = ["Task", "task_names", "get_task", "load_entry", "resolve_task", "describe_tasks"]
