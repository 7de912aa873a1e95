"""Diagnose a training run and say what to change in the learning-rate schedule.

:func:`diagnose` (arrays) and :func:`diagnose_log` (a :class:`~lrkit.monitor.RunLog`, with its
eval loss and the reader's notes) classify a run, with evidence (step ranges, sizes, the LR at
that moment) and advice tied to the schedule in use. Verdicts, most severe first
(:data:`CLASSES`):

============== ================================================== =====================================
class          what it looks like                                 advice
============== ================================================== =====================================
diverging      NaN/inf, a climb far above the best, or an end      lower the peak LR, a 5-10% warm-up,
               level over 1.2x the start (however short the log)   clip gradients
stuck          the loss frozen at one exact value, or never left   a bug or dead network first, then
               its start (within 10% of ``ln k`` at chance)        ``lrkit find``
overfitting    the eval loss rises for a sustained part of the    stop/restore at the best eval step,
               run while the training loss falls, or rises        decay earlier, regularise
               steadily 1.3x+ while it does not (drift?)
spikes         jumps far above the recent level, above the log's  clip gradients, lower the peak ~30%
               resolution and 5% of the run's progress
oscillating    the loss swings up and down repeatedly              halve the LR, smoother decay
schedule       the logged LR: warm-up never ends, LR 0 for         warm-up 5-10%, decay to the run's end
               updates, decay ending long before the run
plateau        no progress for a long stretch, then a drop         cyclical LR or adaptive scheduling
slow           still falling at the end as fast as on average      train longer or ~2.5x the peak
converged      end level 0 or under 1/200 of the start             nothing (check for leaked labels at 0)
healthy        none of the above
============== ================================================== =====================================

How the curve is read (all in log-loss when every loss is positive, so sizes are ratios):
the *trend* is a centred running median over ``w = clip(n / 25, 5, 101)`` points; the *noise*
``sigma`` is 1.4826 x the median absolute deviation of the loss around that trend; the start
and end levels are medians of the first ``clip(n / 20, 1, 5)`` and last ``clip(n / 10, 1, 25)``
points; the resolution is the smallest non-zero step between logged values. The LR at a step
comes from the logged LRs, else from the schedule (the schedule algebra), else it is unknown and
the advice is relative. A resumed run whose logged LR restarted (decayed to ~0, then a new
warm-up, at irregular periods: not SGDR) is judged on its last segment
(:mod:`lrkit.diagnosis.restarts`). docs/diagnose.md has every rule and the measurements on real logs.
"""

from lrkit.diagnosis.core import MIN_POINTS, diagnose, diagnose_log
from lrkit.diagnosis.formatting import fmt_lr, fmt_step
from lrkit.diagnosis.model import CLASSES, Diagnosis

__all__ = ["CLASSES", "MIN_POINTS", "Diagnosis", "diagnose", "diagnose_log", "fmt_lr", "fmt_step"]
