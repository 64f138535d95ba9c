"""Capacity planning: how many agents a queue needs (Erlang C), from its arrivals and handle time."""
