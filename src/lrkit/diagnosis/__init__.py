"""Diagnose a loss curve and say what to change in the learning-rate schedule.

:func:`diagnose` classifies a run as **healthy** or names what went wrong, with evidence
(step ranges, sizes, the LR at that moment) and advice from the guide's troubleshooting table,
tied to the schedule in use:

============== ============================================ ======================================
class          what it looks like                           advice (guide)
============== ============================================ ======================================
diverging      NaN/inf loss, or the loss climbs and stays   lower the peak LR, lengthen warm-up
               far above its best
spikes         sudden jumps far above the recent level      clip gradients, lower the peak,
               (recovered or not)                           longer warm-up
oscillating    the loss swings up and down repeatedly       reduce the LR, smoother decay
plateau        no progress for a long stretch, then a drop  cyclical LR or adaptive scheduling
               (or no progress under a constant LR)
slow           still falling at the end about as fast as    increase the LR, decay more slowly
               on average (the curve has not bent)
============== ============================================ ======================================

How the curve is read (all in log-loss when every loss is positive, so sizes are ratios):
the *trend* is a centred running median over ``w = clip(n / 25, 5, 101)`` points; the *noise*
``sigma`` is 1.4826 x the median absolute deviation of the loss around that trend. A spike is a
point at least ``max(6 sigma, log 1.25)`` above the median of the ``w`` points before it. The
LR at a step comes from the logged LRs, else from the schedule (the schedule algebra), else it
is unknown and the advice is relative.

Modules: :mod:`~lrkit.diagnosis.core` (:func:`diagnose`), :mod:`~lrkit.diagnosis.model`
(:class:`Diagnosis`, :data:`CLASSES`), :mod:`~lrkit.diagnosis.signals` (window statistics),
:mod:`~lrkit.diagnosis.curve` (the curve as read), :mod:`~lrkit.diagnosis.lr_context` (the LR in
use), :mod:`~lrkit.diagnosis.instability` and :mod:`~lrkit.diagnosis.progress` (the detectors),
:mod:`~lrkit.diagnosis.advice` and :mod:`~lrkit.diagnosis.formatting` (how advice is written).
"""

from lrkit.diagnosis.core import MIN_POINTS, diagnose, diagnose_log
from lrkit.diagnosis.formatting import fmt_lr, fmt_step
from lrkit.diagnosis.model import CLASSES, Diagnosis

__all__ = ["CLASSES", "MIN_POINTS", "Diagnosis", "diagnose", "diagnose_log", "fmt_lr", "fmt_step"]
