"""Four topics of eight short passages each: enough leaves for RAPTOR's UMAP to cluster."""

from __future__ import annotations

from rag.types import Passage

TOPICS = {
    "volcano": [
        "Mount Vesuvius erupted in 79 AD and buried the Roman city of Pompeii under ash.",
        "Lava is molten rock that flows out of a volcano during an eruption.",
        "Iceland has many active volcanoes because it sits on the Mid-Atlantic Ridge.",
        "The 1980 eruption of Mount St. Helens blew away the north face of the volcano.",
        "Volcanic ash clouds can ground aircraft because ash damages jet engines.",
        "Magma chambers beneath a volcano fill with molten rock before an eruption.",
        "Krakatoa's eruption in 1883 was heard thousands of kilometres away.",
        "Shield volcanoes such as Mauna Loa have gentle slopes built by runny lava.",
    ],
    "chess": [
        "In chess, the king may castle with a rook if neither has moved.",
        "Magnus Carlsen became world chess champion in 2013 by beating Viswanathan Anand.",
        "A pawn that reaches the last rank of the chessboard is promoted to another piece.",
        "The Sicilian Defence is a popular chess opening that begins 1.e4 c5.",
        "Deep Blue, an IBM computer, defeated chess champion Garry Kasparov in 1997.",
        "Checkmate ends a chess game when the king is attacked and cannot escape.",
        "The bishop moves diagonally across the chessboard any number of squares.",
        "Bobby Fischer won the 1972 world chess championship match in Reykjavik.",
    ],
    "bread": [
        "Sourdough bread rises with wild yeast and lactic acid bacteria from a starter.",
        "Kneading bread dough develops gluten, which traps gas and lets the loaf rise.",
        "A baguette is a long thin loaf of French bread with a crisp crust.",
        "Bakers proof dough in a warm place so that the yeast can ferment the sugars.",
        "Whole wheat flour contains the bran and germ of the grain, unlike white flour.",
        "Steam in the oven during the first minutes of baking gives bread a glossy crust.",
        "Rye bread is dense because rye flour forms little gluten.",
        "Flatbreads such as naan are baked quickly on the hot wall of a tandoor oven.",
    ],
    "football": [
        "The FIFA World Cup is a football tournament held every four years.",
        "A football match lasts ninety minutes, split into two halves of forty-five minutes.",
        "Pele won three World Cups with the Brazilian national football team.",
        "The offside rule stops football attackers from waiting behind the last defender.",
        "A penalty kick is taken from the spot eleven metres from the goal line.",
        "Lionel Messi won the Ballon d'Or for the best football player eight times.",
        "Goalkeepers are the only football players allowed to handle the ball in the box.",
        "Argentina won the 2022 football World Cup final against France on penalties.",
    ],
}


def topic_passages() -> list[Passage]:
    """The 32 passages, in topic order, each from its own source record."""
    return [
        Passage.from_text(text, source=f"topics.json#{n}", start=0, end=len(text))
        for n, text in enumerate(t for texts in TOPICS.values() for t in texts)
    ]


def topic_of(passage_text: str) -> str:
    """Which topic a passage text belongs to."""
    return next(name for name, texts in TOPICS.items() if passage_text in texts)
