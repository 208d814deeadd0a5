"""The dashboard's views of a negotiated text and of an actor's interest trajectory."""

from __future__ import annotations

import solara

from sim.dashboard.frames import Recording
from sim.dashboard.inspector import Inspector
from sim.dashboard.texts_view import TextView, revisions, text_table, trajectory_html
from sim.model import NormDiplomacyModel
from sim.scenario.loading import with_overrides


def recorded(spec, steps: int) -> Recording:
    model = NormDiplomacyModel(spec, rng=4)
    recording = Recording(model)
    for _ in range(steps):
        model.step()
        recording.capture()
    return recording


def negotiated(tiny_spec):
    return with_overrides(tiny_spec, {
        "proposals.call.negotiation": {
            "rounds": {"before_launch": 2, "every": 2}, "consult": {"kind": "state"},
            "content": {"control": {"min": -1.0, "max": 0.0},
                        "restraint": {"min": 0.0, "max": 1.0}},
            "weigh": {"support": 1.0, "distance": 0.0}},
        "positions.socialisation.rate": 0.3})


def test_revisions_and_text_follow_the_frames(tiny_spec):
    recording = recorded(negotiated(tiny_spec), 6)
    frames = recording.frames
    found = revisions(frames, 0)
    assert found, "a sponsor who weighs no distance revises toward support"
    for revision in found:
        before, after = frames[revision["step"] - 1].world, frames[revision["step"]].world
        for dim, old, new in revision["moved"]:
            d = after.dimensions.index(dim) if dim != "bindingness" else None
            assert (old, new) == ((before.content[0, d], after.content[0, d]) if d is not None
                                  else (before.bindingness[0], after.bindingness[0]))
    html = text_table(frames[-1], "call")
    assert "drafted" in html and "+0.90" in html and "cn-changed" in html
    assert text_table(frames[0], "call").count("cn-changed") == 0
    assert revisions(frames[:1], 0) == []


def test_trajectory_shows_moving_interests_only_when_they_move(tiny_spec):
    still = recorded(tiny_spec, 3).frames
    assert "have not moved" in trajectory_html(still, 0)
    moving = recorded(negotiated(tiny_spec), 6).frames
    html = trajectory_html(moving, 1)
    assert "Interest trajectory" in html and "<svg" in html


def page_html(rc) -> str:
    return " ".join(w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets)


def test_text_view_and_inspector_render(tiny_spec):
    frames = recorded(negotiated(tiny_spec), 4).frames
    world = frames[-1].world
    _, rc = solara.render(TextView(frames, "call"), handle_error=False)
    assert "Revisions" in page_html(rc) and "The text of call" in page_html(rc)
    _, rc = solara.render(Inspector(world, "call", 1, lambda row: None, "[]", "now", frames),
                          handle_error=False)
    assert "Interest trajectory" in page_html(rc)
    _, rc = solara.render(Inspector(world, "call", 1, lambda row: None, "[]", "now"),
                          handle_error=False)
    assert "Interest trajectory" not in page_html(rc)
