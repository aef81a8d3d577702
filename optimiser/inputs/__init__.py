"""Inputs and derived parameters: the validated tables, the model file, generated data, and the
numbers the model is built from (slots, loads, Erlang C reserve, route prices)."""
