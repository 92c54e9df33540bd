"""The workflow as a mermaid state diagram, drawn by transitions' own mermaid engine (no Graphviz)."""
from __future__ import annotations



from transitions.extensions import GraphMachine

from app.workflow.definition import PREVIOUS, WorkflowDef


class _Model:
    pass




def mermaid(definition: WorkflowDef, current: str) -> str:
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
