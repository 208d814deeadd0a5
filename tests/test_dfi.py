"""The second call, `scenarios/dfi_2022.yaml`: it validates, takes the baseline's
calibrated behaviour unchanged, runs, and its summary names the states that join."""

from __future__ import annotations

from conftest import BASELINE, ROOT, run_cli

from sim.scenario.loading import load_scenario

DFI = ROOT / "scenarios" / "dfi_2022.yaml"


def test_dfi_takes_every_behaviour_coefficient_from_the_baseline():
    dfi, baseline = load_scenario(DFI), load_scenario(BASELINE)
    assert dfi.behaviour == baseline.behaviour
    for section in ("capacity", "regime", "cyber_power"):
        assert getattr(dfi.world.states, section) == getattr(baseline.world.states, section)
    assert dfi.world.network == baseline.world.network
    assert dfi.blocs == baseline.blocs and dfi.groups == baseline.groups
    for dim, rule in baseline.world.states.interests.items():
        assert dfi.world.states.interests[dim] == rule
    assert list(dfi.proposals) == ["dfi"] and dfi.initiatives == {}
    assert dfi.proposals["dfi"].open_to == ["state"] and dfi.proposals["dfi"].sponsor == "USA"


def test_dfi_runs_and_names_the_states_that_join():
    code, out, err = run_cli("run", str(DFI))
    assert code == 0, err
    assert "2022-04-28 to 2023-01-04" in out
    launch = next(line for line in out.splitlines() if "joining at the launch" in line)
    end = next(line for line in out.splitlines() if "signed by the end" in line)
    assert "USA" in launch and "USA" in end
