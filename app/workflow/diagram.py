"""The workflow as a mermaid state diagram, drawn by transitions' own mermaid engine (no Graphviz)."""
from __future__ import annotations

from transitions.extensions import GraphMachine

from app.workflow.definition import PREVIOUS, WorkflowDef


class _Model:
    pass


def mermaid(definition: WorkflowDef, current: str) -> str:
    """The diagram with the current state marked. Drawn once per loaded definition and state: building
    transitions' machine takes milliseconds, and every review page shows it."""
    key = (id(definition), current)
    drawn = _drawn.get(key)
    if drawn is None or drawn[0] is not definition:
        drawn = _drawn[key] = (definition, _draw(definition, current))  # two threads may both draw it: the same text
    return drawn[1]


# Keyed by the definition object the registry loaded (kept here too, so its id is never reused).
_drawn: dict[tuple[int, str], tuple[WorkflowDef, str]] = {}


def _draw(definition: WorkflowDef, current: str) -> str:
    transitions = []
    for t in definition.events:
        if t.to == PREVIOUS:
            for dest in definition.previous_targets(t):
                transitions.append({"trigger": t.name, "source": t.source, "dest": dest})
        elif t.to is not None:  # events that keep the state would only clutter the picture
            transitions.append({"trigger": t.name, "source": t.source, "dest": t.to})
    model = _Model()
    GraphMachine(
        model=model,
        states=[s.name for s in definition.states],
        transitions=transitions,
        initial=current,
        auto_transitions=False,
        graph_engine="mermaid",
        title=definition.title,
        show_conditions=False,
    )
    # Mermaid's keyword is lower-case `class`; transitions writes `Class`.
    return model.get_graph().draw(None).replace("\n  Class ", "\n  class ")
