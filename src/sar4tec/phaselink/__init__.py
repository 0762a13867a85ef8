"""Phase linking: PS selection, SHP tests, EMI/EVD, sequential estimator with compressed SLCs.

``run_phase_linking`` works on an in-memory stack; ``link_stack_file`` is the block driver
that reads ``slc_stack.h5`` and writes ``linked.h5`` (see ``docs/phase_linking.md``).
"""

from sar4tec.phaselink.amplitude import AmplitudeStats, select_ps
from sar4tec.phaselink.api import PhaseLinkResult, run_phase_linking
from sar4tec.phaselink.options import PhaseLinkOptions

__all__ = [
    "AmplitudeStats",
    "PhaseLinkOptions",
    "PhaseLinkResult",
    "run_phase_linking",
    "select_ps",
]
