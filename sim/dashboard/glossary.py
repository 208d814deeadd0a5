"""What each utility term means, in one line, as docs/ODD.md (Section 7.12) says it.

The inspector shows these as tooltips; tests/test_app.py checks that each line is the
ODD's own wording (so the two cannot drift apart) and that every term has one.
"""

from __future__ import annotations

TERM_MEANINGS = {
    "align": "salience-weighted agreement over the scope, in [-1,1]",
    "cost": "how far the text's demands exceed what i would do anyway, salience-weighted "
            "over the scope, scaled by bindingness",
    "peers": "tie-weighted share of signers among the neighbours who may sign",
    "leader": "cohesion times the mean signal of the bloc's leaders other than i",
    "momentum": "legitimacy of the signer set; the norm cascade",
    "home": "firms and civil society look at their home state",
    "federated": "1 if i is a member of any initiative in federates_p",
    "outreach": "the campaign pressure of the current step",
    "rival": "commitments already made to incompatible proposals",
    "capacity": "the cost of signing and of engaging with a call falls with a state's "
                "diplomatic and cyber capacity",
    "regime": "embeddedness in the existing cyber regime",
    "ties": "standing ties to the sponsor",
    "cue": "cues from every group a state belongs to",
}
#: terms that count against signing (written with positive coefficients)
SUBTRACTED = ("cost", "rival")
ODD_SECTION = "docs/ODD.md, Section 7.12 (Utility)"


def meaning(term: str) -> str:
    """The one-line meaning of a term (i is the actor, p the proposal)."""
    text = TERM_MEANINGS.get(term, f"see {ODD_SECTION}")
    return f"{term}: {text}" + (" (counts against signing)" if term in SUBTRACTED else "")
