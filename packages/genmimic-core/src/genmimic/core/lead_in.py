"""When a clip gets a lead-in from standing, and how long (the arrays: :mod:`genmimic.core.standing`).

No NumPy here: the CLIs read :data:`LEAD_IN_HELP` when they start.
"""

#: A clip whose pelvis moves faster than this over its first :data:`START_SPEED_WINDOW_S` starts in motion
#: [m/s]. The held-out and benchmark clips (procedural, lifted, the CMU jumps, the demo) start at 0.25 m/s at
#: most; the bundled generated video at 0.72 m/s (measured 2026-12-05).
START_SPEED_LIMIT_M_S = 0.4
START_SPEED_WINDOW_S = 0.1
#: Lead-in used for clips that start in motion: standing still [s], then the blend into the first frame [s].
LEAD_IN_HOLD_S = 0.5
LEAD_IN_BLEND_S = 1.0


#: The ``--lead-in`` option's help, the same in ``genmimic-policy track``/``evaluate`` and ``genmimic-deploy run``.
LEAD_IN_HELP = (f"Seconds of standing before the clip, blended into its first frame (0: start in its first state). "
                f"Default: {LEAD_IN_HOLD_S + LEAD_IN_BLEND_S:g} s for a clip that starts in motion (pelvis faster "
                f"than {START_SPEED_LIMIT_M_S:g} m/s), else 0.")

