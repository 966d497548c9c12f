"""``make demo``: the main job end to end on the bundled input (or ``--video``).

video -> genmimic-lift (SMPL clip) -> genmimic-retarget (G1 clip) -> genmimic-policy track with the shipped
policy (robot trajectory), then a side-by-side MP4 (source | lifted human | simulated G1) and a report.
Every output lands in ``demo_out/``; each stage says what it is doing on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from genmimic.core import save_clip
from genmimic.core.errors import GenMimicError

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "data" / "demo" / "wave_step_turn.mp4"
PIPELINE = "genmimic-lift VIDEO -o - | genmimic-retarget - -o - | genmimic-policy track - -o robot.npz"


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def side_by_side(video: Path, human, robot, dest: Path, height: int = 360, label: str | None = None) -> int:
    """Frames of the source video, the lifted human (rendered figure) and the simulated G1 side by side over a
    caption strip (time, controller ``label``, keypoint error, a fall marker). The human and the G1 are filmed
    by the same camera (:data:`genmimic.core.g1_render.FRONT`: from the front, following the root); after a
    fall the video holds the fall's frame for a second and ends. Returns the number of frames written."""
    import av
    import cv2

    from genmimic.core.compare_video import caption_strip, label_panel, video_plan
    from genmimic.core.frame_metrics import fall_event
    from genmimic.core.g1_render import FRONT, render_poses_in_background
    from genmimic.lift.figure import RenderSetup, render_frames
    from genmimic.lift.render import write_video

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 25)
        source = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    n = min(len(source), human.num_frames)
    fall = fall_event(robot)
    plan = video_plan(n, fps, robot.num_frames, robot.fps, fall.frame if fall else None)
    width = height * 3 // 4 // 2 * 2
    setup = RenderSetup(width=width, height=height, fovy=FRONT.fovy, distance=FRONT.distance,
                        cam_height=FRONT.lookat_height, follow=True, fast=True)
    humans = render_frames(human.replace(**{f.name: getattr(human, f.name)[: max(2, int(plan.source[-1]) + 1)]
                                            for f in human.array_fields() if f.metadata["shape"][:1] == ("T",)}),
                           setup)
    bots = render_poses_in_background(robot.root_pos[plan.robot], robot.root_quat[plan.robot],
                                      robot.dof_pos[plan.robot], width, height, FRONT)
    who = label or "G1"

    def resize(img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        return cv2.resize(img, (max(2, round(w * height / h)) // 2 * 2, height), interpolation=cv2.INTER_AREA)

    def frames():
        hum, shown, done = None, -1, []
        for i, (s, t, bot) in enumerate(zip(plan.source, plan.robot, bots, strict=True)):
            while shown < s:
                hum, shown = next(humans), shown + 1
            row = np.concatenate([label_panel(resize(source[s]), "source video"), label_panel(hum, "lifted human"),
                                  label_panel(bot, who)], 1)
            if not plan.fell[i] or i == plan.fall_frame:
                done.append(float(robot.tracking_error[t]))
            strip = caption_strip(row.shape[1], [
                f"t {t / robot.fps:5.2f} s   G1 keypoint error {robot.tracking_error[t] * 100:5.1f} cm "
                f"(mean so far {np.mean(done) * 100:.1f} cm)",
                "source | lifted human | simulated G1: one camera, in front, following the root"],
                alert=fall.label() if plan.fell[i] else None)
            yield np.concatenate([row, strip], 0)

    try:
        return write_video(dest, frames(), fps)
    finally:
        humans.close()
        bots.close()


def html_report(out: Path, video: Path, report: dict, robot, robot_name: str, mpc_robot, clip, with_video: bool):
    """report.html: plots of each controller's tracking (genmimic.core.report_html), the numbers, the files."""
    from genmimic.core.report_html import Run, write_report_html

    runs = [Run(robot_name, robot)] + ([Run("mpc", mpc_robot)] if mpc_robot is not None else [])
    files = ["human.npz", "g1.npz", "robot.npz", *(["robot_mpc.npz"] if mpc_robot is not None else []),
             *(["side_by_side.mp4"] if with_video else []), "report.md", "report.json", "feasibility.json"]
    return write_report_html(out / "report.html", f"GenMimic demo: {video.name}", runs, clip, report, files)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--video", type=Path, help="your own video instead of the bundled one")
    parser.add_argument("--out", type=Path, default=Path("demo_out"))
    parser.add_argument("--no-video", action="store_true", help="skip the side-by-side MP4")
    parser.add_argument("--mpc-seconds", type=float, default=4.0,
                        help="also track the first this-many seconds with the sampling MPC (0: skip)")
    args = parser.parse_args()
    video = args.video or BUNDLED
    out = args.out
    try:
        return run(video, out, not args.no_video, args.mpc_seconds)
    except GenMimicError as err:
        say(f"error: {err}")
        return 1


def ik_note(report) -> str:
    """What the retarget summary's "frames with a keypoint over 5 cm off" means for the user: IK frames whose
    largest keypoint error exceeds the 5 cm criterion (``genmimic.retarget.ik``), with the largest error
    and whether it matters."""
    n = len(report.nonconverged_frames)
    total = report.ik_frames
    worst = report.keypoint_error_max * 100
    where = f" ({report.worst_keypoint} at {report.worst_time:.2f} s)" if report.worst_keypoint else ""
    share = "every IK frame" if n == total else f"{n} of {total} IK frames ({100 * n / max(total, 1):.0f} %)"
    which = [name for name, _ in report.nonconverged_keypoints[:3]]
    always = [name for name, frames in report.nonconverged_keypoints if frames >= 0.9 * total]
    if always:  # a keypoint off on (nearly) every frame: the G1's build, not a failed solve
        why = (f"the {', '.join(always)} miss on (nearly) every frame: the G1's build differs there from the lifted "
               "body's, a constant difference (e.g. the G1's shoulders and head sit lower on its torso than a "
               "video-lifted person's) or a posture it cannot take (a trunk bent more than its waist allows)")
    else:
        why = "the G1's proportions and joint limits cannot match the human there" + (
            f"; most often the {', '.join(which)}" if which else "")
    what = (f"note: in {share} some G1 keypoint ends more than 5 cm from the scaled human's ({why}; "
            f"largest {worst:.1f} cm{where}, mean "
            f"{report.keypoint_error_mean * 100:.1f} cm). The G1 clip is complete and is what the trackers follow")
    if worst <= 10:
        return what + "; a miss this small does not change the motion visibly"
    look = f": look at the {report.worst_keypoint} around {report.worst_time:.2f} s" if report.worst_keypoint else ""
    return what + "; the largest miss is big enough to change the motion visibly" + look


def raised_hand_error(robot, clip) -> float:
    """Mean root-relative error [m] of the right hand over the frames where the reference raises it above
    the right shoulder (the wave in the bundled clip); nan when it never does."""
    from genmimic.core.tracking import heading_frame, reference_on_frames

    names = [str(n) for n in clip.keypoint_names]
    hand, shoulder, pelvis = (names.index(n) for n in ("right_hand", "right_shoulder", "pelvis"))
    idx = reference_on_frames(clip.fps, clip.num_frames, robot.num_frames, robot.fps)
    ref_kp = clip.keypoints[idx]
    raised = ref_kp[:, hand, 2] > ref_kp[:, shoulder, 2]
    if not raised.any():
        return float("nan")
    rel = (heading_frame(robot.keypoints, robot.keypoints[:, pelvis], robot.root_quat)
           - heading_frame(ref_kp, ref_kp[:, pelvis], clip.root_quat[idx]))[:, hand]
    return float(np.linalg.norm(rel[raised], axis=-1).mean())


def feasibility_summary(clip, out: Path) -> dict:
    """genmimic-retarget check on the G1 clip: say its summary, write feasibility.json, return the JSON."""
    from genmimic.retarget.feasibility import check_feasibility

    report = check_feasibility(clip)
    for line in report.summary().splitlines():  # the verdict, then at most 8 findings and "... and N more"
        say(f"      feasibility: {line.strip()}")
    data = report.to_json()
    (out / "feasibility.json").write_text(json.dumps(data))
    return {"verdict": data["verdict"], "findings": data["findings"]}


def track_mpc(clip, seconds: float, out: Path, policy_robot):
    """Track the first ``seconds`` of ``clip`` with the sampling MPC (robot_mpc.npz); the MPC trajectory,
    its score, the policy's score over the same frames, and the wall time."""
    from genmimic.core.tracking import score_trajectory
    from genmimic.policy.controllers import make_controller
    from genmimic.policy.track import track_clip

    n = min(clip.num_frames, max(2, int(seconds * clip.fps) + 1))
    part = clip.replace(**{f.name: getattr(clip, f.name)[:n] for f in clip.array_fields()
                           if f.metadata["shape"][:1] == ("T",)})
    start = time.perf_counter()
    mpc = make_controller("mpc", progress=True)
    robot = track_clip(part, mpc, source=str(out / "g1.npz"))
    wall = time.perf_counter() - start
    save_clip(robot, out / "robot_mpc.npz")
    m = min(n, policy_robot.num_frames)
    policy_part = policy_robot.replace(**{f.name: getattr(policy_robot, f.name)[:m]
                                          for f in policy_robot.array_fields() if f.metadata["shape"][:1] == ("T",)})
    return robot, score_trajectory(robot, part), score_trajectory(policy_part, part), wall


def run(video: Path, out: Path, make_video: bool = True, mpc_seconds: float = 4.0) -> int:
    from genmimic.core.tracking import MIN_TRAVEL_M, describe_global, global_following, score_trajectory
    from genmimic.lift.importers import lift_any
    from genmimic.policy.policy_file import load_policy
    from genmimic.policy.track import success, track_clip
    from genmimic.retarget import retarget

    if not video.is_file():
        if video != BUNDLED:
            raise GenMimicError(f"{video}: no such video file")
        say(f"rendering the bundled input {video.relative_to(ROOT)} (first run)")
        sys.path.insert(0, str(ROOT / "scripts"))
        from render_demo_video import render_demo_video

        render_demo_video(video)
    out.mkdir(parents=True, exist_ok=True)
    say(f"GenMimic demo on {video}")
    say(f"the same as the shell pipeline: {PIPELINE}")
    times: dict[str, float] = {}

    start = time.perf_counter()
    say("[1/4] lift: video -> SMPL (MediaPipe Pose, sequence fit, ground plane) ...")
    human = lift_any(video)
    save_clip(human, out / "human.npz")
    times["lift"] = time.perf_counter() - start
    say(f"      {human.num_frames} frames at {human.fps:g} fps -> {out}/human.npz ({times['lift']:.1f} s)")

    start = time.perf_counter()
    say("[2/4] retarget: SMPL -> G1 joints and keypoints (Pink IK, feet on the ground) ...")
    result = retarget(human, source=str(out / "human.npz"))
    save_clip(result.clip, out / "g1.npz")
    times["retarget"] = time.perf_counter() - start
    say(f"      {result.report.summary()}")
    if result.report.nonconverged_frames:
        say(f"      {ik_note(result.report)}")
    feasibility = feasibility_summary(result.clip, out)

    start = time.perf_counter()
    say("[3/4] track: the shipped policy makes the simulated G1 follow the keypoints (MuJoCo) ...")
    policy, meta = load_policy()
    robot = track_clip(result.clip, policy, meta, source=str(out / "g1.npz"))
    save_clip(robot, out / "robot.npz")
    times["track"] = time.perf_counter() - start
    ok = success(robot)
    err = float(robot.tracking_error.mean())
    score = score_trajectory(robot, result.clip)
    follow = global_following(score)
    not_done = [w for w, done in (("travel", follow.travelled), ("turn", follow.turned)) if done is False]
    missed = f"; but it **did not {' or '.join(not_done)} as the reference did** (below)" if not_done else ""
    wave_err = raised_hand_error(robot, result.clip)
    say(f"      {'stayed up' if not robot.fell else 'FELL'}; mean keypoint error {err * 100:.1f} cm in the world "
        "(with the root's drift; strict success is root-relative) "
        f"-> {out}/robot.npz ({times['track']:.1f} s)")
    say(f"      strict success: {'yes' if score.strict_success else 'no'} (worst 1 s root-relative error "
        f"{score.worst_window_error * 100:.1f} cm); right hand while raised {wave_err * 100:.1f} cm; "
        f"heading error at the end {np.degrees(score.final_heading_error):.0f} deg; joint angles "
        f"{np.degrees(score.joint_error):.0f} deg off the reference's on average")
    say(f"      where it went (beside success, not in it): {describe_global(score)}")

    shown, shown_name, mpc_report = robot, meta.name, None
    if mpc_seconds > 0:
        say(f"      and the sampling MPC on the first {mpc_seconds:g} s "
            "(no training; 10-40x slower than real time on 2 cores) ...")
        mpc_robot, mpc_score, pol_score, mpc_wall = track_mpc(result.clip, mpc_seconds, out, robot)
        times["track_mpc"] = mpc_wall
        better = (not mpc_score.fell, -mpc_score.root_relative_error) > (not pol_score.fell,
                                                                        -pol_score.root_relative_error)
        say(f"      MPC: {'FELL' if mpc_score.fell else 'stayed up'}, root-relative error "
            f"{mpc_score.root_relative_error * 100:.1f} cm vs the policy's "
            f"{pol_score.root_relative_error * 100:.1f} cm "
            f"over the same {mpc_robot.duration:.1f} s -> {out}/robot_mpc.npz ({mpc_wall:.1f} s)")
        mpc_report = {"seconds": mpc_robot.duration, "fell": mpc_score.fell,
                      "root_relative_error_m": mpc_score.root_relative_error,
                      "policy_root_relative_error_m": pol_score.root_relative_error, "better": better}
        if better and mpc_robot.num_frames >= robot.num_frames:
            shown, shown_name = mpc_robot, "mpc"
        elif better:
            say("      (the MPC tracked better but covers only part of the clip: the video shows the policy; "
                "use --mpc-seconds to cover it all)")

    if make_video:
        start = time.perf_counter()
        say(f"[4/4] video: source | lifted human | simulated G1 ({shown_name}) ...")
        n = side_by_side(video, human, shown, out / "side_by_side.mp4", label=f"G1: {shown_name}")
        times["video"] = time.perf_counter() - start
        say(f"      {n} frames -> {out}/side_by_side.mp4 ({times['video']:.1f} s)")

    report = {
        "video": str(video), "success": score.strict_success, "legacy_success": ok, "fell": robot.fell,
        "mean_keypoint_error_m": err,
        "strict_success": score.strict_success, "worst_window_error_m": score.worst_window_error,
        "root_relative_error_m": score.root_relative_error, "group_errors_m": score.groups._asdict(),
        "right_hand_error_while_raised_m": wave_err, "joint_error_deg": float(np.degrees(score.joint_error)),
        "final_heading_error_deg": float(np.degrees(
            score.final_heading_error)), "root_error_per_m": score.root_error_per_m,
        "travelled_with_reference": follow.travelled, "turned_with_reference": follow.turned,
        "retarget": {k: v for k, v in result.report._asdict().items() if k != "nonconverged_frames"},
        "seconds_per_stage": times, "frames": human.num_frames, "fps": human.fps,
        "feasibility": feasibility, "mpc": mpc_report, "video_controller": shown_name if make_video else None,
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    # per metre only where the reference travels a metre or more (below, the figure is divided by 1 m)
    per_metre = (f" (root {score.root_error_per_m:.2f} m off per m travelled)"
                 if score.reference_travel >= MIN_TRAVEL_M else "")
    lines = [f"# GenMimic demo: {video.name}", "",
             f"- result (strict criterion: no fall, root-relative keypoint error <= 25 cm in every 1 s window): "
             f"**{'success' if score.strict_success else 'not a success'}** "
             f"({'fell' if robot.fell else 'no fall'}, worst window {score.worst_window_error * 100:.1f} cm)" + missed,
             f"- legacy success (no fall and mean keypoint error < 25 cm, kept for continuity; global, so a robot "
             f"that steps away from the reference's path fails it): **{'yes' if ok else 'no'}** ({err * 100:.1f} cm)",
             f"- errors, root-relative: hands {score.groups.hands * 100:.1f} cm, "
             f"feet {score.groups.feet * 100:.1f} cm, head {score.groups.head * 100:.1f} cm; "
             f"right hand while raised (the wave) {wave_err * 100:.1f} cm; joint angles "
             f"{np.degrees(score.joint_error):.0f} deg off the reference's on average (posture: keypoints can "
             "match with a thigh or upper arm turned about its own axis)",
             f"- where it went (beside success, not in it): {describe_global(score)}" + per_metre,
             f"- lift: {human.num_frames} frames at {human.fps:g} fps, "
             f"height {float(np.ptp(human.joints[0, :, 2])) + 0.1:.2f} m (approx.)",
             f"- retarget: {result.report.summary()}",
             f"- feasibility of the G1 clip (genmimic-retarget check): **{feasibility['verdict']}**"
             + "".join(f"; {f['level']} {f['reason']} frames {f['first']}-{f['last']}"
                       for f in feasibility["findings"][:3])
             + (f"; and {len(feasibility['findings']) - 3} more (feasibility.json)"
                if len(feasibility["findings"]) > 3 else ""),
             *([f"- sampling MPC on the first {mpc_report['seconds']:.1f} s: "
                f"{'fell' if mpc_report['fell'] else 'no fall'}, root-relative error "
                f"{mpc_report['root_relative_error_m'] * 100:.1f} cm (policy "
                f"{mpc_report['policy_root_relative_error_m'] * 100:.1f} cm on the same frames); "
                f"the video shows: {shown_name}"] if mpc_report else []),
             "", "| stage | seconds |", "|---|---:|"]
    lines += [f"| {k} | {v:.1f} |" for k, v in times.items()]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    html = html_report(out, video, report, robot, meta.name,
                       mpc_robot if mpc_report else None, result.clip, make_video)
    say(f"      report with plots -> {html} ({time.perf_counter() - start:.1f} s)")
    say("")
    print(f"demo outputs in {out.resolve()}/: human.npz, g1.npz, robot.npz"
          f"{', robot_mpc.npz' if mpc_report else ''}{', side_by_side.mp4' if make_video else ''}, "
          "report.md, report.json, feasibility.json, report.html")
    print(f"report with plots: {html.resolve()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
