"""The conversation fuzzer: random customers change the subject, and every turn is checked against the invariants.

`python -m fuzz --conversations N --seed S` (`make fuzz-dialogue`) starts the embedded stack on private ports, plays
random conversations over Rasa's REST channel (guests and signed-in customers of each tier, support queues open and
closed), checks the dialogue invariants (fuzz/invariants.py) on every turn, shrinks each failure to its shortest
conversation and writes it as a Rasa test story to reports/fuzz/. Messages come from the project's own NLU data
(data/nlu), never from the shared evaluation sets.
"""
