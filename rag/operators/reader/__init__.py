"""The "read an answer" operator: a Reader turns a question and ranked passages into a Reading.

- `reading`: the contract (`Reader`, `Reading`, `cite`).
- `llm`: `LLMReader`, a versioned prompt and a tolerant parser; the reader to improve.
- `extractive`: `ExtractiveReader`, the frozen offline baseline (a span heuristic), built on
  `text` (sentence splitter, word tokens), `answer_spans` (candidate spans), `span_choice`
  (answer-type cues) and `bridging` (hops through a named entity).

Which reader a pipeline uses is resolved by `rag.operators.registry` (role "reader").
"""
